"""How an analyst judges an action from weekly counts in three areas: response, buffer, control.

- WDD, Wheeler & Ratcliffe (2018): (R1 - R0) - (C1 - C0) + (B1 - B0) - (C1 - C0), where 0 is
  before and 1 after. Counts are taken as independent Poisson, so the variance is the sum of
  each count times its coefficient squared: R0 + R1 + B0 + B1 + 4 (C0 + C1), because the
  response and the buffer share the one control (with a control of its own for the buffer
  this is the plain sum of the eight counts).
- WDQ, Bowers & Johnson (2003): (B1/C1 - B0/C0) / (R1/C1 - R0/C0). It weighs displacement
  against success, so it is only defined when the response fell relative to the control.
- DiD: a Poisson regression of the weekly counts on area, period and area x period (control
  and before are the reference); exp(response x after) is the rate ratio. When the Pearson
  chi2 / residual df exceeds 1.5 the data are overdispersed and a negative binomial (NB2,
  alpha by maximum likelihood) is fitted instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from ..i18n import Message
from ..i18n import lazy_gettext as _l

OVERDISPERSION_LIMIT = 1.5
MIN_REPORTS = 10
Z95 = float(ndtri(0.975))  # scipy.special, not scipy.stats: 46 MB less per worker


@dataclass(frozen=True)
class Series:
    """Weekly counts of one area before and after the start."""

    weekly_before: list[int]
    weekly_after: list[int]

    @property
    def before(self) -> int:
        return sum(self.weekly_before)

    @property
    def after(self) -> int:
        return sum(self.weekly_after)

    def to_json(self) -> dict[str, Any]:
        """{before, after, weekly_before, weekly_after}."""
        return {"before": self.before, "after": self.after,
                "weekly_before": self.weekly_before, "weekly_after": self.weekly_after}  # fmt: skip


def _two_sided_p(z: float) -> float:
    return float(2 * ndtr(-abs(z)))


def wdd(response: Series, buffer: Series, control: Series) -> dict[str, float | None]:
    """Wheeler & Ratcliffe's weighted displacement difference with its Poisson z-test."""
    change_c = control.after - control.before
    estimate = (response.after - response.before - change_c) + (
        buffer.after - buffer.before - change_c
    )
    variance = (
        response.before + response.after + buffer.before + buffer.after
        + 4 * (control.before + control.after)
    )  # fmt: skip
    if variance == 0:
        return {"estimate": float(estimate), "se": None, "z": None, "p": None}
    se = math.sqrt(variance)
    z = estimate / se
    return {"estimate": float(estimate), "se": round(se, 4), "z": round(z, 4),
            "p": round(_two_sided_p(z), 4)}  # fmt: skip


def wdq(
    response: Series, buffer: Series, control: Series
) -> tuple[float | None, Message | None]:
    """Bowers & Johnson's weighted displacement quotient, or None and the reason."""
    if control.before == 0 or control.after == 0:
        return None, _l("the comparison area has no reports in one of the periods")
    success = response.after / control.after - response.before / control.before
    if success >= 0:
        return None, _l("the place did not fall relative to the comparison area")
    displacement = buffer.after / control.after - buffer.before / control.before
    return round(displacement / success, 4) + 0.0, None  # + 0.0: never -0.0


def _design(areas: dict[str, Series]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Weekly counts and columns: const, after, then each non-control area and its x after."""
    names = [name for name in areas if name != "control"]
    rows, counts = [], []
    for area, series in areas.items():
        for post, weekly in ((0, series.weekly_before), (1, series.weekly_after)):
            for n in weekly:
                dummies = [1.0 if area == name else 0.0 for name in names]
                rows.append([1.0, post, *dummies, *(d * post for d in dummies)])
                counts.append(n)
    columns = ["const", "after", *names, *(f"{name}:after" for name in names)]
    return np.asarray(counts, dtype=float), np.asarray(rows), columns


def fit_counts(areas: dict[str, Series]) -> tuple[Any, str]:
    """Poisson GLM of the weekly counts, or NB2 when Pearson chi2/df > 1.5; (result, model).

    statsmodels (with pandas and pyarrow behind it) is imported here, on a team's first
    evaluation: imported with the app it was 190 MB of every public worker's memory."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    y, x, _ = _design(areas)
    with warnings.catch_warnings():
        # Weeks with identical counts fit exactly; the estimates stay finite and right.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        poisson = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    if poisson.df_resid <= 0 or poisson.pearson_chi2 / poisson.df_resid <= OVERDISPERSION_LIMIT:
        return poisson, "poisson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = sm.NegativeBinomial(y, x).fit(disp=0, maxiter=500)
        except (np.linalg.LinAlgError, ValueError):
            nb = None
    if nb is None or not nb.mle_retvals.get("converged", False):
        return sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2"), "quasi_poisson"
    return nb, "negative_binomial"


def _ratio(result: Any, index: int, model: str) -> dict[str, Any]:
    beta, se = float(result.params[index]), float(result.bse[index])
    return {
        "rate_ratio": round(math.exp(beta), 4),
        "ci_low": round(math.exp(beta - Z95 * se), 4),
        "ci_high": round(math.exp(beta + Z95 * se), 4),
        "p": round(_two_sided_p(beta / se), 4),
        "model": model,
    }


def did(
    response: Series, buffer: Series, control: Series
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Message | None]:
    """Rate ratios of response and buffer against control; None and a reason when unfit."""
    if min(control.before, control.after) == 0:
        return None, None, _l("the comparison area has no reports in one of the periods")
    if min(response.before, response.after) == 0:
        return None, None, _l("the place has no reports in one of the periods: no finite ratio")
    if not response.weekly_after:
        return None, None, _l("no complete week since the start")
    areas = {"control": control, "response": response}
    if min(buffer.before, buffer.after) > 0:
        areas["buffer"] = buffer
    result, model = fit_counts(areas)
    _, _, columns = _design(areas)
    main = _ratio(result, columns.index("response:after"), model)
    around = _ratio(result, columns.index("buffer:after"), model) if "buffer" in areas else None
    return main, around, None


def enough_data(response: Series, control: Series) -> bool:
    """At least MIN_REPORTS in the place before, and in the comparison area before and after."""
    return (
        bool(response.weekly_after)
        and response.before >= MIN_REPORTS
        and min(control.before, control.after) >= MIN_REPORTS
    )


def _percent_change(ratio: dict[str, Any]) -> tuple[bool, dict[str, str]]:
    """(fell, {"percent": "38", "low": "12", "high": "55"}) from a rate ratio and its 95% CI."""
    rr, low, high = ratio["rate_ratio"], ratio["ci_low"], ratio["ci_high"]
    if rr < 1:
        return True, {"percent": _pct(1 - rr), "low": _pct(1 - high), "high": _pct(1 - low)}
    return False, {"percent": _pct(rr - 1), "low": _pct(low - 1), "high": _pct(high - 1)}


def _pct(share: float) -> str:
    return format(100 * share, ".0f")


def _around(around: dict[str, Any] | None, buffer_m: float) -> Message:
    ring = format(buffer_m, ".0f")
    if around is None or around["p"] >= 0.05:
        return _l("no sign of displacement into the surrounding %(ring)s m", ring=ring)
    fell, change = _percent_change(around)
    if around["rate_ratio"] > 1:
        return _l("reports rose %(percent)s%% more in the surrounding %(ring)s m than in the "
                  "comparison area (95%% CI %(low)s-%(high)s%%), a sign of displacement",
                  ring=ring, **change)  # fmt: skip
    if fell:
        return _l("reports also fell %(percent)s%% more in the surrounding %(ring)s m (95%% CI "
                  "%(low)s-%(high)s%%), a diffusion of benefit", ring=ring, **change)
    return _l("reports also rose %(percent)s%% more in the surrounding %(ring)s m (95%% CI "
              "%(low)s-%(high)s%%), a diffusion of benefit", ring=ring, **change)


def verdict(
    response: Series,
    control: Series,
    main: dict[str, Any] | None,
    around: dict[str, Any] | None,
    buffer_m: float,
) -> Message:
    """One plain sentence a sergeant can repeat (lazy: put into words in the reader's language
    each time it is shown, so a kept verdict serves English and Welsh alike)."""
    if not enough_data(response, control):
        if response.before >= MIN_REPORTS and response.weekly_after:
            return _l("Too few reports in the comparison area to tell: at least %(min)s are "
                      "needed there before and after (try a narrower buffer or another control).",
                      min=MIN_REPORTS)  # fmt: skip
        return _l("Too few reports to tell: at least %(min)s are needed before and after.",
                  min=MIN_REPORTS)  # fmt: skip
    if main is None:
        return _l("Reports in the place went from %(before)s before to %(after)s after; too few "
                  "to compare with the comparison area.", before=response.before,
                  after=response.after)  # fmt: skip
    if main["p"] >= 0.05:
        first = _l("No clear change compared with the comparison area (rate ratio %(ratio)s, 95%% "
                   "CI %(low)s-%(high)s)", ratio=format(main["rate_ratio"], ".2f"),
                   low=format(main["ci_low"], ".2f"), high=format(main["ci_high"], ".2f"))
    else:
        fell, change = _percent_change(main)
        first = (
            _l("Reports fell %(percent)s%% more than in the comparison area (95%% CI "
               "%(low)s-%(high)s%%)", **change)
            if fell
            else _l("Reports rose %(percent)s%% more than in the comparison area (95%% CI "
                    "%(low)s-%(high)s%%)", **change)
        )
    return _l("%(first)s; %(around)s.", first=first, around=_around(around, buffer_m))


def public_verdict(
    response: Series, control: Series, main: dict[str, Any] | None
) -> Message | None:
    """The verdict in plain words for a receipt page, with no number in it (None: not yet).

    Only the direction of a clear change is told: counts, percentages and intervals would
    say how many people reported there.
    """
    if not enough_data(response, control) or main is None:
        return None
    if main["p"] >= 0.05:
        return _l("So far there is no clear change in how often people report feeling unsafe "
                  "here.")  # fmt: skip
    if main["rate_ratio"] < 1:
        return _l("Since it started, people have reported feeling unsafe here less often than "
                  "in comparable places nearby.")  # fmt: skip
    return _l("Since it started, people have reported feeling unsafe here more often than in "
              "comparable places nearby.")  # fmt: skip
