"""End-to-end tests: a real ``exchange hub serve`` process, driven by the CLI and HubClient."""
