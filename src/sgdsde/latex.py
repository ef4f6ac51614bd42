"""LaTeX output: numbers and booktabs tables for ``paper/generated/``."""

from __future__ import annotations

import math
import re

import pandas as pd


def latex_number(x: float | None) -> str:
    """``1.23e-05`` → ``\\ensuremath{1.23\\times 10^{-5}}``; three significant digits."""
    if x is None or not math.isfinite(x):
        return r"\textrm{n/a}"
    mantissa, _, exponent = f"{x:.3g}".partition("e")
    if not exponent:
        return mantissa
    return rf"\ensuremath{{{mantissa}\times 10^{{{int(exponent)}}}}}"


_SPECIAL = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
}
# The specs' symbols, as LaTeX that pdflatex typesets with the standard fonts.
_UNICODE = {
    "§": r"\S{}",
    "±": r"$\pm$",
    "²": r"$^2$",
    "³": r"$^3$",
    "⁴": r"$^4$",
    "½": r"$\frac12$",
    "×": r"$\times$",
    "è": r"\`e",
    "Σ": r"$\Sigma$",
    "ζ": r"$\zeta$",
    "η": r"$\eta$",
    "σ": r"$\sigma$",
    "φ": r"$\varphi$",
    "χ": r"$\chi$",
    "ᵀ": r"$^{\top}$",
    "–": "--",
    "—": "---",
    "‖": r"$\|$",
    "…": r"\ldots{}",
    "→": r"$\to$",
    "∇": r"$\nabla$",
    "∂": r"$\partial$",
    "Λ": r"$\Lambda$",
    "≍": r"$\asymp$",
    "∈": r"$\in$",
    "−": "-",
    "√": r"$\surd$",
    "∝": r"$\propto$",
    "≈": r"$\approx$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "♮": r"$\natural$",
    "∘": r"$\circ$",
    "ξ": r"$\xi$",
    "γ": r"$\gamma$",
    "λ": r"$\lambda$",
    "θ": r"$\theta$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "δ": r"$\delta$",
    "ε": r"$\varepsilon$",
    "τ": r"$\tau$",
    "Φ": r"$\Phi$",
    "₀": r"$_0$",
    "₁": r"$_1$",
    "ℓ": r"$\ell$",
    "·": r"$\cdot$",
    "’": "'",
    "μ": r"$\mu$",
    "Θ": r"$\Theta$",
    "₂": r"$_2$",
    "∫": r"$\int$",
    "÷": r"$\div$",
    "ô": r"\^o",
    "κ": r"$\kappa$",
    "ρ": r"$\rho$",
    "Γ": r"$\Gamma$",
    "Δ": r"$\Delta$",
    "¹": r"$^1$",
    "⁵": r"$^5$",
    "⁶": r"$^6$",
    "⁻": r"$^-$",
    "↔": r"$\leftrightarrow$",
    "∞": r"$\infty$",
    "“": "``",
    "”": "''",
}


_COMBINING = {"\u0304": r"\bar", "\u0303": r"\tilde"}


def escape(text: str) -> str:
    """Plain text as LaTeX: special characters escaped, the specs' Unicode symbols translated;
    an unknown non-ASCII symbol is an error rather than a missing glyph in the PDF."""

    def unknown(char: str, _: int) -> ValueError:
        return ValueError(f"no LaTeX for {char!r} (U+{ord(char):04X}) in {text!r}")

    return _translate(text, _SPECIAL, lambda m: f"${m}$", _COMBINING, unknown)


def latex_table(table: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs ``longtable`` (it may break across pages); numbers to three digits."""

    def cell(value) -> str:
        if isinstance(value, float) or value is None:
            return latex_number(None if value is None or pd.isna(value) else float(value))
        return escape(str(value))

    header = " & ".join(escape(str(c)) for c in table.columns) + r" \\"
    body = [" & ".join(cell(v) for v in row) + r" \\" for row in table.itertuples(index=False)]
    return "\n".join(
        [
            r"{\footnotesize\setlength{\tabcolsep}{4pt}",
            r"\begin{longtable}{" + "l" * len(table.columns) + "}",
            rf"\caption{{{escape(caption)}}}\label{{{label}}} \\\\",
            r"\toprule",
            header,
            r"\midrule",
            r"\endfirsthead",
            r"\caption[]{(continued)} \\\\",
            r"\toprule",
            header,
            r"\midrule",
            r"\endhead",
            r"\bottomrule",
            r"\endfoot",
            *body,
            r"\end{longtable}}",
            "",
        ]
    )


def _translate(text: str, special: dict, math, combining: dict, unknown) -> str:
    """Each character of ``text`` as LaTeX: those of ``special`` replaced, the symbols of the
    table with their math ones wrapped by ``math``, a combining mark of ``combining`` applied
    to the preceding unit; ``unknown(char, position)`` is the error for any other symbol."""
    out: list[str] = []
    for position, char in enumerate(text):
        if char in combining and out:
            base = out.pop()
            inner = re.fullmatch(r"\$(.*)\$|\\ensuremath\{(.*)\}|(.*)", base, flags=re.S)
            body = next(group for group in inner.groups() if group is not None)
            out.append(math(rf"{combining[char]}{{{body}}}"))
        elif char in special:
            out.append(special[char])
        elif ord(char) < 128:
            out.append(char)
        elif char in _UNICODE:
            symbol = _UNICODE[char]
            math_symbol = symbol.startswith("$") and symbol.endswith("$")
            out.append(math(symbol[1:-1]) if math_symbol else symbol)
        else:
            raise unknown(char, position)
    return "".join(out)


def latex_symbols(latex: str, where: str) -> str:
    r"""LaTeX source with Unicode symbols (pandoc's output of a document) made pdflatex-ready:
    each symbol of the table as ``\ensuremath{…}`` (right in text and in math), a combining
    macron or tilde as ``\bar``/``\tilde`` of the preceding symbol. An unknown symbol is an
    error naming ``where`` and the line."""

    def unknown(char: str, position: int) -> ValueError:
        line = latex[:position].count("\n") + 1
        return ValueError(f"{where}: no LaTeX for {char!r} (U+{ord(char):04X}), output line {line}")

    return _translate(latex, {}, lambda m: rf"\ensuremath{{{m}}}", _COMBINING, unknown)
