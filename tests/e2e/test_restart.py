"""A hub killed and restarted while a node sends: ``node send`` rides out the restart (its
retries cover ~30 s), prints the message id, and resending with ``--message-id`` stores the
document once. A document acknowledged before a ``kill -9`` is there after the restart."""

from __future__ import annotations

import re
import threading
import time

from e2e.harness import start_hub


def test_node_send_rides_out_a_hub_restart_and_resends_safely(pki, database_kind, workdir, start,  # type: ignore[no-untyped-def]
                                                               monkeypatch):
    hub = start(keys=pki.dir)
    document = workdir / "bao-cao.txt"
    document.write_text("Báo cáo 6 tháng\n", encoding="utf-8")
    first = hub.cli("node", "send", str(document), "--as", "ha-noi", "--to", "da-nang", cwd=workdir)
    acknowledged = first.stdout.split()[0]
    assert re.search(r"message id [0-9a-f-]{36}", first.stdout), first.stdout

    hub.process.kill()  # a crash: no graceful shutdown
    hub.process.wait(timeout=30)
    port = int(hub.url.rsplit(":", 1)[1])
    restarted = []

    def restart() -> None:
        time.sleep(2.0)
        restarted.append(start_hub(keys=pki.dir, data=hub.data, db_url=hub.db_url, port=port))

    thread = threading.Thread(target=restart)
    thread.start()
    try:
        sent = hub.cli("node", "send", str(document), "--as", "ha-noi", "--to", "nghe-an",
                       "--message-id", "bc-6-thang-2015", cwd=workdir)
        thread.join(timeout=60)
        assert restarted, "the hub did not restart"
        assert "message id bc-6-thang-2015" in sent.stdout and "already sent" not in sent.stdout
        again = hub.cli("node", "send", str(document), "--as", "ha-noi", "--to", "nghe-an",
                        "--message-id", "bc-6-thang-2015", cwd=workdir)
        assert again.stdout.split()[0] == sent.stdout.split()[0] and "already sent" in again.stdout
        assert hub.document_rows() == 2  # the one before the crash, and this one once
        with restarted[0].client("da-nang") as reader:
            assert reader.document(acknowledged).sender == "ha-noi"

        restarted[0].stop()
        monkeypatch.setenv("EXCHANGE_RETRY_WINDOW", "0.5")
        down = hub.cli("node", "send", str(document), "--as", "ha-noi", "--to", "nghe-an",
                       "--message-id", "bc-quy-3", cwd=workdir, check=False)
        assert down.returncode == 1 and down.stderr.count("\n") == 1
        assert "cannot reach the hub" in down.stderr and "--message-id bc-quy-3" in down.stderr
    finally:
        thread.join(timeout=60)
        for running in restarted:
            running.stop()
