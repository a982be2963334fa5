"""Shared fixtures: a temporary data root with small raw files written in code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration.settings import Settings

RATES = "rate_date;from_currency;to_currency;rate\n01.01.2024;EUR;CHF;0,950000\n01.01.2024;USD;CHF;0,880000\n"
CUSTOMERS_HEADER = (
    "customer_id;customer_name;customer_group_id;customer_group_name;country;currency;"
    "customer_since;payment_net_days;cash_discount_pct;cash_discount_days\n"
)
INVOICE_HEADER = (
    "invoice_number;line_number;invoice_date;customer_id;product_id;quantity;unit_price;currency;"
    "document_type;standard_cost_per_unit;due_date;payment_date\n"
)


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAM_DATA_DIR", str(tmp_path))
    (tmp_path / "raw").mkdir()
    return tmp_path


@pytest.fixture
def settings(data_root: Path) -> Settings:
    s = Settings.load()
    s.ensure_dirs()
    return s


@pytest.fixture
def write_raw(data_root: Path) -> Callable[..., Path]:
    """write_raw("invoice_lines", "a.csv", text, encoding="utf-8-sig") -> path."""

    def _write(source: str, name: str, text: str, encoding: str = "utf-8") -> Path:
        folder = data_root / "raw" / source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


@pytest.fixture
def base_sources(write_raw) -> None:
    """Rates and two customers (one in a group), enough for invoice-line tests."""
    write_raw("exchange_rates", "rates.csv", RATES)
    write_raw(
        "customers",
        "customers.csv",
        CUSTOMERS_HEADER
        + "C1;Müller & Söhne GmbH;G1;Müller Gruppe;CH;CHF;01.01.2020;30;2,00;10\n"
        + "C2;Société Générale de Pièces;;;FR;EUR;15.03.2021;60;;\n",
        encoding="cp1252",
    )


class WebhookSink:
    """A local HTTP server (127.0.0.1, a free port) that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading

        sink = self
        self.received: list[dict] = []
        self.status = 200
        self.delay = 0.0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import time

                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(sink.delay)
                sink.received.append(json.loads(body))
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch):
    """A webhook receiver, configured through KAM_ALERT_WEBHOOK_URL."""
    sink = WebhookSink()
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", sink.url)
    yield sink
    sink.close()
