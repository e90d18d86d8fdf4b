"""L2-regularised logistic regression solved over the training rows (the dual), by
Newton's method.

The rule: minimise 1/2 |w|^2 + sum_i c_i log(1 + exp(-y_i (w . x_i + b))) — the objective
of scikit-learn's LogisticRegression with C, class weights and sample weights folded
into c_i — with the intercept b learnt as the weight of a constant feature INTERCEPT_SCALE
(so it is regularised by 1/2 (b / INTERCEPT_SCALE)^2, negligible). The optimum lies in
the span of the training rows (w = X^T a), so only the n x n kernel K = X X^T is needed,
and Newton's method on f = K a (Rasmussen & Williams, Algorithm 3.1) converges in 3 to 5
steps of one n x n Cholesky each.

Why: scikit-learn's L-BFGS optimises all 100,384 feature weights; on 100k candidates the
fit took 1.2 s of the 1.4 s a recommendation cost (bench/RESULTS.md §12). Over ~315
training rows the same model takes milliseconds, whatever the vocabulary."""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

INTERCEPT_SCALE = 10.0
MAX_STEPS = 30
# Relative change of the objective at which Newton stops: rankings do not move below it
# (the dev figures of eval/recommend_eval.py are the same at 1e-4 as at 1e-7).
TOLERANCE = 1e-4
# Matrices of a few hundred rows: one BLAS thread. Measured on 2 busy cores, OpenBLAS's
# second thread made a 515 x 515 Cholesky take a median 276 ms instead of 6 ms (its
# threads spin waiting for a core); the request's other work needs no threads either.
_blas = ThreadpoolController()


def one_thread() -> AbstractContextManager[object]:
    """A context in which BLAS and LAPACK run on the calling thread only."""
    limiter: AbstractContextManager[object] = _blas.limit(limits=1, user_api="blas")
    return limiter


def class_weights(
    labels: npt.NDArray[np.int_], sample: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """scikit-learn's class_weight="balanced" with sample weights (as scikit-learn 1.9
    computes it): the weighted total / (2 x the class's weighted total), for each row."""
    total = float(sample.sum())
    positive = float(sample[labels == 1].sum())
    weight = {1: total / (2 * max(positive, 1e-12)), 0: total / (2 * max(total - positive, 1e-12))}
    return np.array([weight[int(label)] for label in labels], dtype=np.float64)


def _log1pexp(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.logaddexp(0.0, x)


def fit_dual(
    kernel: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int_],
    costs: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], float]:
    """The dual coefficients a (w = X^T a) and the intercept of the rule above, given
    K = X X^T (without the constant feature), labels in {0, 1} and each row's cost c_i."""
    # Imported here: scipy costs every command that builds a Deployment ~0.4 s to import.
    from scipy.linalg import cho_factor, cho_solve

    k = kernel + INTERCEPT_SCALE**2
    sign = 2.0 * labels - 1.0
    f = np.zeros(len(labels))
    a = np.zeros(len(labels))
    previous = np.inf
    for _ in range(MAX_STEPS):
        p = 1.0 / (1.0 + np.exp(-f))
        w = np.maximum(costs * p * (1.0 - p), 1e-12)
        root = np.sqrt(w)
        system = root[:, None] * k * root[None, :]
        system.flat[:: len(labels) + 1] += 1.0
        # The Newton system in single precision (6x faster; the step is only a direction:
        # the objective below, in double precision, decides how far to go).
        factor = cho_factor(system.astype(np.float32), lower=True, check_finite=False)
        b = w * f + costs * (labels - p)
        right = (root * (k @ b)).astype(np.float32)
        step = b - root * cho_solve(factor, right, check_finite=False).astype(np.float64)
        objective = np.inf
        for _ in range(20):  # a full Newton step, halved while it does not descend
            f = k @ step
            objective = 0.5 * float(step @ f) + float(costs @ _log1pexp(-sign * f))
            if objective <= previous:
                break
            step = 0.5 * (step + a)
        converged = previous - objective <= TOLERANCE * max(1.0, abs(objective))
        a, previous = step, objective
        if converged:
            break
    return a, float(INTERCEPT_SCALE**2 * a.sum())
