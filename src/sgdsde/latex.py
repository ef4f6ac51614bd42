"""LaTeX output: numbers and booktabs tables for ``paper/generated/``."""

from __future__ import annotations

import math

import pandas as pd


def latex_number(x: float | None) -> str:
    """``1.23e-05`` → ``\\ensuremath{1.23\\times 10^{-5}}``; three significant digits."""
    if x is None or not math.isfinite(x):
        return r"\textrm{n/a}"
    mantissa, _, exponent = f"{x:.3g}".partition("e")
    if not exponent:
        return mantissa
    return rf"\ensuremath{{{mantissa}\times 10^{{{int(exponent)}}}}}"


def _escape(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                       ("#", r"\#"), ("²", r"$^2$")):  # fmt: skip
        text = text.replace(char, repl)
    return text


def latex_table(table: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs ``table`` environment; numbers with three significant digits."""

    def cell(value) -> str:
        if isinstance(value, float) or value is None:
            return latex_number(None if value is None or pd.isna(value) else float(value))
        return _escape(str(value))

    header = " & ".join(_escape(str(c)) for c in table.columns) + r" \\"
    body = [" & ".join(cell(v) for v in row) + r" \\" for row in table.itertuples(index=False)]
    return "\n".join([
        r"\begin{table}[htbp]", r"\centering\small",
        rf"\caption{{{_escape(caption)}}}\label{{{label}}}",
        r"\begin{tabular}{" + "l" * len(table.columns) + "}", r"\toprule", header, r"\midrule",
        *body, r"\bottomrule", r"\end{tabular}", r"\end{table}", "",
    ])  # fmt: skip
