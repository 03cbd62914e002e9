"""The shared service of the service tests: one `grader serve` for the whole session.

It grades conv_backward and relu_backward with small limits, knows the tokens of
``service_support.TOKENS``, signs webhooks, and is stopped (SIGTERM, drained) at the end.
Tests that kill, drain or restart a service start their own. ``receiver`` takes webhooks, one
per test module.
"""

import shutil

import pytest

import service_support


@pytest.fixture(scope="session")
def service():
    folder = service_support.new_folder("shared")
    tokens = folder / "tokens.txt"
    tokens.write_text(service_support.token_lines(), encoding="utf-8")
    config = service_support.write_config(folder, {"tokens_file": str(tokens), "queue_limit": 8,
                                                   "max_request_kb": 512, "request_seconds": 2,
                                                   "webhooks": {"first_retry_seconds": 0.2, "max_retry_seconds": 0.5,
                                                                "attempts": 3, "timeout_seconds": 5}})
    server = service_support.Server(folder, config, env={"GRADER_WEBHOOK_SECRET": service_support.WEBHOOK_SECRET,
                                                         "CNN_SERVICE_SECRET": "service-secret-4711"})
    try:
        yield server.start()
    finally:
        if server.process is not None and server.process.poll() is None:
            status = server.stop()
            assert status == 0, server.log_text()[-3000:]
            assert "Traceback" not in server.log_text(), server.log_text()[-5000:]
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def receiver():
    receiver = service_support.Receiver().start()
    yield receiver
    receiver.stop()
