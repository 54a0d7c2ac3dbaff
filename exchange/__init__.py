"""A reference simulator of signed electronic document exchange between Party bodies (Decision
260-QĐ/TW): a demo PKI, CMS signatures and RFC 3161 time-stamps, a hub and its nodes, the K1–K3
measures, the simulator and the dashboard. The README's map says which package holds what."""

