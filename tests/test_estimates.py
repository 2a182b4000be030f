"""The rate and time left of counted progress (tasks_app/estimates.py), on progress curves
recorded from the built-in kinds: each sample is [seconds, current, total] as the reporter
emitted it (at most 10 a second). tests/progress_curves/ticker.json is a ticker of 120 steps
0.05 s apart (steady); data_import.json an import of 60,000 CSV rows, which counts in bursts of
500-row inserts. Both were recorded by wrapping ProgressReporter._emit around a run of the kind
in this test environment. The stalled and restarted curves are the ticker's, cut and joined as
a stall and a lost worker make them."""

import json
from pathlib import Path

import pytest

from tasks_app.estimates import MIN_SECONDS, RateEstimator

CURVES = Path(__file__).parent / "progress_curves"


def curve(name: str) -> list[list]:
    return json.loads((CURVES / f"{name}.json").read_text())


def estimates(samples) -> list[tuple[float, float | None, float | None]]:
    estimator = RateEstimator()
    return [(at, *vars(estimator.observe(at, current, total)).values()) for at, current, total in samples]


@pytest.mark.parametrize("name, within", [("ticker", 0.15), ("data_import", 0.35)])
def test_the_time_left_is_near_the_time_the_recorded_run_really_took(name, within):
    samples = curve(name)
    ended = samples[-1][0]

    for at, _rate, eta in estimates(samples[:-1]):
        if eta is not None:
            assert abs(eta - (ended - at)) <= within * (ended - samples[0][0]) + 0.3, (at, eta, ended - at)


@pytest.mark.parametrize("name", ["ticker", "data_import"])
def test_nothing_is_estimated_before_min_seconds_of_counting_then_always(name):
    samples = curve(name)
    start = samples[0][0]

    for at, rate, eta in estimates(samples[:-1]):
        assert (rate is None) == (at - start < MIN_SECONDS), at
        assert (eta is None) == (rate is None)


@pytest.mark.parametrize("name, steadiness", [("ticker", 0.1), ("data_import", 0.5)])
def test_the_rate_does_not_jump_between_samples(name, steadiness):
    rates = [rate for _at, rate, _eta in estimates(curve(name)) if rate is not None]

    for before, after in zip(rates, rates[1:], strict=False):
        assert abs(after - before) <= steadiness * before, (before, after)


def test_a_stall_lowers_the_rate_and_raises_the_time_left_until_counting_resumes():
    ticker = curve("ticker")
    half = len(ticker) // 2
    stalled_at, current, total = ticker[half]
    stall = [[stalled_at + second, current, total] for second in range(1, 31)]
    resumed = [[at + 31, c, n] for at, c, n in ticker[half + 1 :]]

    during = estimates(ticker[: half + 1] + stall)[half + 1 :]
    rates = [rate for _at, rate, _eta in during]
    etas = [eta for _at, _rate, eta in during]
    assert rates == sorted(rates, reverse=True) and rates[-1] < rates[0] / 4
    assert etas == sorted(etas) and etas[-1] > 4 * etas[0]
    after = estimates(ticker[: half + 1] + stall + resumed)
    assert after[-2][1] > rates[-1] * 2  # picking up again within seconds


def test_a_run_started_again_starts_its_estimate_over():
    ticker = curve("ticker")
    lost_at = ticker[36][0]
    again = [[lost_at + 1 + at, current, total] for at, current, total in ticker]

    after = estimates(ticker[:37] + again)[37:]

    assert after[0][1:] == (None, None)  # its count went back to the start
    first = next(at for at, rate, _eta in after if rate is not None)
    assert first - again[0][0] >= MIN_SECONDS
    steady = [rate for _at, rate, _eta in estimates(ticker) if rate is not None][-1]
    assert after[-2][1] == pytest.approx(steady, rel=0.15)


def test_counting_without_a_total_has_a_rate_and_no_time_left():
    samples = [[second / 10, second * 5, None] for second in range(40)]

    at, rate, eta = estimates(samples)[-1]

    assert (rate, eta) == (50.0, None)


def test_a_new_total_is_a_new_count():
    estimator = RateEstimator()
    for second in range(5):
        estimator.observe(second, second * 10, 100)

    assert estimator.observe(5, 1, 20).rate is None
