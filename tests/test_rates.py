"""Rate tests of the approximation theorems (docs/momentum_approx.md#sde2, E1): fitted log-log
slopes of exact weak errors against h, asserted within a stated tolerance of the theory."""

from dataclasses import dataclass, replace

import numpy as np
import pytest

from sgdsde.moments import continuous_moments, discrete_moments
from sgdsde.observables import canonical_test_functions
from sgdsde.sde import APPROXIMATIONS, HeavyBallRegimeB
from sgdsde.stats import fit_loglog_slope

T = 2.0
G = canonical_test_functions(2)
TOL = 0.05  # on the least-squares slope over the ladder below (5 step sizes)


def terminal_errors(model, approximation, g, ks):
    hs = T * 2.0 ** -np.asarray(ks, dtype=float)
    errors = []
    for h in hs:
        disc = discrete_moments(model, h, T).expectation(g, model.dim)[-1]
        cont = continuous_moments(model, h, T, APPROXIMATIONS[approximation])
        errors.append(disc - cont.expectation(g, model.dim)[-1])
    return hs, np.array(errors)


def slope(model, approximation, g, ks):
    return fit_loglog_slope(*terminal_errors(model, approximation, g, ks)).slope


@pytest.mark.parametrize("g_name", ["g1", "g2", "g3"])
@pytest.mark.parametrize(("approximation", "order"), [("ode", 1), ("sde1", 1), ("sde2", 2)])
def test_cfg_b_weak_orders(cfg_b, approximation, order, g_name):
    assert slope(cfg_b, approximation, G[g_name], range(6, 11)) == pytest.approx(order, abs=TOL)


@pytest.mark.parametrize("g_name", ["g1", "g3"])
@pytest.mark.parametrize(("approximation", "order"), [("sde2", 2), ("sde2_noshift", 1)])
def test_cfg_a_initial_shift_decides_the_order(cfg_a, approximation, order, g_name):
    """Regime A: SDE2 is second order only from the shifted start (negative control:
    docs/momentum_approx.md#regime-a)."""
    assert slope(cfg_a, approximation, G[g_name], range(8, 13)) == pytest.approx(order, abs=0.1)


@dataclass(frozen=True)
class RightPointSchedules(HeavyBallRegimeB):
    """A deliberately wrong discretisation: U(t_{n+1}), V(t_{n+1}) instead of the left point."""

    def discrete_update(self, t, h, Y, H):
        return super().discrete_update(t + h, h, Y, H)


def test_right_point_schedules_degrade_sde2_to_first_order(cfg_b):
    """docs/momentum_approx.md#pitfalls P3: the rate test must catch a schedule evaluated at
    t_{n+1}."""
    wrong = RightPointSchedules(cfg_b.oracle, cfg_b.U, cfg_b.V, cfg_b.x0, cfg_b.p0)
    assert slope(wrong, "sde2", G["g1"], range(6, 11)) == pytest.approx(1.0, abs=0.1)


@dataclass(frozen=True)
class FlippedDerivative:
    """A schedule whose derivative has the wrong sign (docs/momentum_approx.md#pitfalls P11)."""

    schedule: object

    def __call__(self, t, d):
        return self.schedule(t, d)

    def derivative(self, t, d):
        return -self.schedule.derivative(t, d)


def test_sign_slip_in_u_dot_breaks_sde2_but_not_sde1(cfg_b):
    wrong = replace(cfg_b, U=FlippedDerivative(cfg_b.U))
    assert slope(wrong, "sde1", G["g1"], range(6, 11)) == pytest.approx(1.0, abs=TOL)
    assert slope(wrong, "sde2", G["g1"], range(6, 11)) == pytest.approx(1.0, abs=0.1)
