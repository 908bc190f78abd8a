"""Screenshots of the ops console's main pages, for the README (docs/console-*.png).

Builds a small store with four days of simulated routing (arrivals, batches, reps
accepting and working leads, some SLA expiries and re-routes), serves the console on a
loopback port, and photographs it with the system's headless Chromium through Playwright
(``.ci/ensure-chromium`` installs it; no browser is downloaded). Run from the checkout:

    PYTHONPATH=. .venv/bin/python scripts/console_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select

from solver.app.console._local import browser_problem, launch_chromium, serve_in_background
from solver.app.service import (
    BatchSettings,
    Store,
    StoreSettings,
    ingest_leads,
    load_reps_into_store,
    mark_lead,
    run_batch,
    utcnow,
)
from solver.app.service import _schema as schema
from solver.app.service import _state as state
from solver.app.service._api import create_app
from solver.policy import parse_policy

TOKEN = "screenshot-token"
REGIONS = ("north", "south", "west")
POLICY = {
    "rules": [{"name": "territory", "kind": "equals", "lead": "region", "rep": "region"}],
    "pools": [{"name": "territory", "rules": ["territory"]}, {"name": "overflow", "rules": []}],
    "fairness": {"band": 0.3},
    "ramp": {"schedule": [[0, 0.5], [30, 1.0]]},
    "sla": {"work_within_minutes": 60, "max_attempts": 3},
}
PREVIEW_POLICY = """# every lead stays in its territory, and shares are kept within ±10%
[[rules]]
name = "territory"
kind = "equals"
lead = "region"
rep = "region"

[fairness]
band = 0.1
"""


def toy_scorer(leads: pd.DataFrame, reps: pd.DataFrame) -> npt.NDArray[np.float64]:
    """A stand-in for a fitted model: conversion 12%, 30% in the rep's own region."""
    same = (leads["region"].to_numpy()[:, None] == reps["region"].to_numpy()[None, :])
    skill = np.linspace(0.9, 1.15, len(reps))[None, :]
    return np.where(same, 0.30, 0.12) * skill


def _reps(now: datetime) -> pd.DataFrame:
    names = ["ana", "ben", "chloe", "dev", "emma", "felix", "grace", "hugo"]
    return pd.DataFrame({
        "rep_id": names,
        "capacity": [8, 8, 6, 10, 8, 6, 8, 5],
        "capacity_week": [35, "", 30, 45, "", 30, 40, ""],
        "region": [REGIONS[j % 3] for j in range(len(names))],
        "weight": [1, 1, 1, 1.5, 1, 1, 1, 1],
        "timezone": ["Europe/London", "Europe/Paris", "America/New_York", "UTC",
                     "Europe/Berlin", "America/Chicago", "UTC", "Asia/Singapore"],
        "start_date": ["2024-01-08", "2023-05-02", "2025-02-10", "2022-09-01",
                       (now - timedelta(days=12)).date().isoformat(), "2024-06-03",
                       "2023-11-20", "2025-08-04"],
        "active": [True, True, True, True, True, True, True, False],
    })


def simulate(store: Store, settings: BatchSettings, now: datetime, seed: int = 7) -> None:
    """Arrivals every 45 minutes over four days; each batch's leads are accepted, worked
    (a quarter convert) or left to expire, as reps do."""
    rng = np.random.default_rng(seed)
    load_reps_into_store(store, _reps(now))
    tick, number = now - timedelta(days=4), 0
    while tick < now - timedelta(minutes=20):
        arrivals = int(rng.poisson(1.5))
        if arrivals:
            created = [tick - timedelta(minutes=float(rng.uniform(1, 40)))
                       for _ in range(arrivals)]
            ids = [f"web-{number + i:04d}" for i in range(arrivals)]
            number += arrivals
            regions = rng.choice(REGIONS, size=arrivals)
            ingest_leads(store, pd.DataFrame({  # an account's leads come from one region
                "lead_id": ids, "region": regions,
                "account_id": [f"{r}-{rng.integers(0, 150):03d}" for r in regions],
                "value": rng.integers(5, 80, size=arrivals) * 100,
                "created_at": [c.isoformat() for c in created]}), now=tick)
        run_batch(store, settings, now=tick)
        recent = tick > now - timedelta(hours=2)  # the last batches: reps not done yet
        _follow_up(store, tick, rng, untouched=0.6 if recent else 0.15)
        tick += timedelta(minutes=45)
    ingest_leads(store, pd.DataFrame({  # fresh arrivals, still pending
        "lead_id": [f"web-new-{i}" for i in range(9)],
        "account_id": [f"new-{i}" for i in range(9)],
        "region": [REGIONS[i % 3] for i in range(9)], "value": [1500] * 9,
        "created_at": [(now - timedelta(minutes=3 * i)).isoformat() for i in range(9)]}),
        now=now)


def _follow_up(store: Store, tick: datetime, rng: np.random.Generator, *,
               untouched: float) -> None:
    with store.read() as conn:
        fresh = list(conn.execute(select(schema.leads.c.lead_id).where(
            (schema.leads.c.status == "assigned") & (schema.leads.c.assigned_at == tick)))
            .scalars())
    for lead_id in fresh:
        fate = rng.random()
        if fate < untouched:
            continue  # nobody touches it (yet): past the SLA it expires and is re-routed
        at = tick + timedelta(minutes=float(rng.uniform(2, 20)))
        if fate < untouched + 0.2:
            mark_lead(store, lead_id, action="accepted", now=at)
            at += timedelta(minutes=float(rng.uniform(2, 20)))
        mark_lead(store, lead_id, action="worked", converted=bool(rng.random() < 0.25),
                  now=at)


def _rerouted_lead(store: Store) -> str:
    with store.read() as conn:
        found = conn.execute(select(schema.assignments.c.lead_id)
                             .where(schema.assignments.c.event == "expired").limit(1)).scalar()
        return str(found or state.pending_leads(conn, 1)[0]["lead_id"])


def photograph(base: str, out: Path, lead_id: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(f"{base}/console/login")
        page.get_by_label("API token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        for name, path in (("board", "/"), ("lead", f"/console/leads/{lead_id}"),
                           ("reps", "/console/reps"), ("speed", "/console/speed")):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            shots.append(out / f"console-{name}.png")
            page.screenshot(path=shots[-1], full_page=name in ("lead", "speed"))
        page.goto(f"{base}/console/policy")
        page.get_by_label("Policy TOML").fill(PREVIEW_POLICY)
        page.get_by_role("button", name="Check and preview").click()
        page.wait_for_load_state("networkidle")
        shots.append(out / "console-policy.png")
        page.screenshot(path=shots[-1], full_page=True)
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    problem = browser_problem()
    if problem:
        raise SystemExit(f"console_screenshots: {problem}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(StoreSettings(url=f"sqlite:///{scratch}/console.db"))
        settings = BatchSettings(policy=parse_policy(POLICY), scorer=toy_scorer,
                                 time_limit_s=5.0)
        simulate(store, settings, utcnow())
        app = create_app(store, settings, api_token=TOKEN, deliver_webhooks=False)
        with serve_in_background(app) as base:
            for shot in photograph(base, args.out, _rerouted_lead(store)):
                print(f"wrote {shot}")
        store.dispose()


if __name__ == "__main__":
    main()
