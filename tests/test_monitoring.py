"""The alert rules and the Grafana dashboard in deploy/monitoring use only metrics the product declares.

Names are taken from the collectors themselves (`broker.metrics.Metrics`, `consumers.metrics`), so a
renamed or removed metric fails here instead of leaving an alert that can never fire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Metric

from broker.metrics import Metrics
from consumers import metrics as consumer_metrics

MONITORING = Path(__file__).resolve().parents[1] / "deploy" / "monitoring"
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}
# What operators asked to see (issue #16): each must be used by an alert and by a dashboard panel.
REQUIRED = {
    "sgb_outbox_depth",
    "sgb_held_deliveries",
    "sgb_overdue_clocks",
    "sgb_consumer_dead_letters_total",
    "sgb_opa_failures_total",
    "sgb_log_verification_ok",
}
# PromQL words that look like names but are not metrics (functions are recognised by their "(").
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def declared() -> set[str]:
    """Every series name the product's collectors can expose."""
    families: Iterable[Metric] = [*Metrics().registry.collect(), *consumer_metrics.declarations()]
    return {family.name + suffix for family in families for suffix in SUFFIXES[family.type]}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    names = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text)
    return {name for name in names if name not in KEYWORDS and not re.fullmatch(r"\d+[smhdwy]", name)}


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_targets() -> Iterator[tuple[str, str]]:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def test_the_parser_finds_metrics_and_skips_functions_labels_and_durations() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{status=~"5.."}[5m]))) > 0.5 and time() - y > 3 * 3600'
    assert metric_names(expr) == {"x_bucket", "y"}


def test_every_alert_is_well_formed() -> None:
    rules = alert_rules()
    assert rules
    assert len({rule["alert"] for rule in rules}) == len(rules), "alert names must be unique"
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0m")), rule["alert"]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_used_is_declared_by_the_product(source: str) -> None:
    exprs = [r["expr"] for r in alert_rules()] if source == "alerts" else [e for _, e in dashboard_targets()]
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert used, f"no metric found in the {source}"
    assert used - declared() == set(), f"{source} use metrics the product never declares"


def test_what_operators_asked_for_is_alerted_on_and_charted() -> None:
    alerted = set().union(*(metric_names(rule["expr"]) for rule in alert_rules()))
    charted = set().union(*(metric_names(expr) for _, expr in dashboard_targets()))
    assert declared() >= REQUIRED
    assert REQUIRED - alerted == set(), "no alert for these"
    assert REQUIRED - charted == set(), "no dashboard panel for these"


def test_dashboard_panels_have_unique_ids_and_use_the_datasource_variable() -> None:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])


def _rule(name: str) -> str:
    expr: str = next(rule["expr"] for rule in alert_rules() if rule["alert"] == name)
    return expr


def test_no_gateway_scraped_reads_a_series_only_gateways_serve() -> None:
    worker = {family.name for family in Metrics(gateway=False).registry.collect()}
    used = metric_names(_rule("SgbNoGatewayScraped"))
    assert used and used <= declared()
    assert not {name.removesuffix("_total") for name in used} & worker, "a worker's series would keep it silent"


def test_a_failed_log_verification_cannot_be_outvoted() -> None:
    # -1 (not checked yet) and 1 beside a 0 must not hide it: no min/max/avg over the gauge.
    expr = _rule("SgbLogVerificationFailed")
    assert metric_names(expr) == {"sgb_log_verification_ok"}
    assert "== 0" in expr
    assert not re.search(r"\b(min|max|avg|sum)\s*\(", expr), expr


COMPOSE = MONITORING.parents[1] / "docker-compose.yml"
TOKEN_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")


def scrape_jobs() -> dict[str, str]:
    """Each target in prometheus.yml -> the name of the token file its job scrapes with."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert "alerts.yml" in config["rule_files"]
    jobs: dict[str, str] = {}
    for job in config["scrape_configs"]:
        for target in (target for static in job["static_configs"] for target in static["targets"]):
            assert target not in jobs, f"{target} is scraped twice"
            jobs[target] = Path(job["authorization"]["credentials_file"]).name
    return jobs


# The setting that opens a service's metrics port, and the one holding the token it serves them to.
PORT_AND_TOKEN = [("SGB_WORKER_METRICS_PORT", "SGB_METRICS_TOKEN"), ("CONSUMER_METRICS_PORT", "CONSUMER_METRICS_TOKEN")]


def compose_metrics_ports() -> dict[str, str]:
    """Each target docker-compose.yml serves metrics on -> the .env variable its token comes from."""
    served: dict[str, str] = {}
    for name, service in yaml.safe_load(COMPOSE.read_text())["services"].items():
        env = service.get("environment", {})
        ports = [(env[port], env.get(token, "")) for port, token in PORT_AND_TOKEN if port in env]
        if name == "gateway":  # /metrics on its own HTTPS port
            ports.append((service["command"][service["command"].index("--port") + 1], env["SGB_METRICS_TOKEN"]))
        for port, token in ports:
            found = TOKEN_VARIABLE.fullmatch(token)
            assert found, f"{name} serves metrics on {port} without a required token: {token!r}"
            served[f"{name}:{port}"] = found.group(1)
    return served


def test_prometheus_scrapes_every_metrics_port_with_its_token() -> None:
    served = compose_metrics_ports()
    assert set(served) == {"gateway:8443", "worker:9464", "consumer-csc:9464", "consumer-police:9464"}
    assert scrape_jobs() == served


def test_each_agencys_consumer_has_a_token_of_its_own() -> None:
    # The consumers share the delivery network: a shared token would let one agency read another's counts.
    served = compose_metrics_ports()
    consumers = [variable for target, variable in served.items() if target.startswith("consumer-")]
    assert len(set(consumers)) == len(consumers) == 2
    assert served["worker:9464"] == served["gateway:8443"] == "SGB_METRICS_TOKEN"
    assert "SGB_METRICS_TOKEN" not in consumers
