"""The method documents (``docs/<paper>.md``) as sections of the reproduction report.

The report has no second copy of the science: each paper's section is its document, converted
by pandoc, with four translations that make it a report rather than a web page:

* ``<a id="x"></a>`` anchors become labels ``doc:<paper>:x`` and in-document links
  ``[text](#x)`` (or ``[text](<paper>.md#x)``) become ``\\hyperref`` to them, so a broken link
  is an undefined reference in the PDF;
* an inline claim id, ``\\`<claim id>\\```, becomes the measured value of the ledger's macro
  (``\\`<claim id>:status\\``` its status): the documents cite claims, the report prints them;
* a paragraph that opens with an anchor ``f<k>`` and **F<k>** becomes figure ``F<k>`` of the
  paper with that paragraph as its caption; ``t<k>`` / **T<k>** inputs the generated table;
* the documents' Unicode symbols are mapped to LaTeX (:func:`sgdsde.latex.latex_symbols`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from sgdsde.claims import macro_name
from sgdsde.latex import escape, latex_symbols

_ANCHOR = re.compile(r'<a id="([^"]+)">')
_FLOAT = re.compile(r"([FT])(\d+)")
# what a claim id looks like: <paper>.E<label>.<rest>, with no spaces
_CLAIM_ID = re.compile(r"[a-z_]+\.E\d\w*\.\S+")


def _raw(latex: str) -> dict:
    return {"t": "RawInline", "c": ["latex", latex]}


def _label(paper: str, anchor: str) -> str:
    return f"doc:{paper}:{anchor}"


class _Converter:
    def __init__(self, paper, papers, claims, figures, tables):
        self.paper, self.papers, self.claims = paper, frozenset(papers), frozenset(claims)
        self.figures, self.tables = dict(figures), dict(tables)
        self.placed: set[str] = set()

    def inline(self, node: dict) -> list[dict]:
        kind, content = node["t"], node.get("c")
        if kind == "RawInline" and content[0] == "html":
            anchor = _ANCHOR.fullmatch(content[1])
            return [_raw(self.label(anchor[1]))] if anchor else []
        if kind == "Code" and _CLAIM_ID.fullmatch(content[1]):
            return [_raw(self.claim_macro(content[1]))]
        if kind == "Code":  # identifiers may break after . / _ , = (they are long)
            code = re.sub(r"(\.|/|\\_|,|=)", r"\1\\allowbreak{}", escape(content[1]))
            return [_raw(rf"\texttt{{{code}}}")]
        if kind == "Link":
            return self.link(node)
        if kind == "Math" and content[0]["t"] == "DisplayMath":  # scaled down if too wide
            return [_raw(rf"\[\fitdisplay{{{content[1]}}}\]")]
        return [self.walk(node)]

    def label(self, anchor: str) -> str:
        return rf"\phantomsection\label{{{_label(self.paper, anchor)}}}"

    def claim_macro(self, code: str) -> str:
        claim, _, field = code.partition(":")
        if claim not in self.claims or field not in ("", "status"):
            raise ValueError(
                f"docs/{self.paper}.md cites `{code}`: not a claim of the ledger"
                " (a claim id, optionally followed by `:status`)"
            )
        return "\\" + macro_name(claim) + ("Status" if field else "") + "{}"

    def link(self, node: dict) -> list[dict]:
        text, (url, _) = self.walk(node["c"][1]), node["c"][2]
        if re.match(r"[a-z]+://", url):
            return [node]
        path, _, anchor = url.partition("#")
        document = PurePosixPath(path).stem if path else self.paper
        if document in self.papers and (not path or path.endswith(".md")):
            target = _label(document, anchor) if anchor else f"sec:{document}"
            return [_raw(rf"\hyperref[{target}]{{"), *text, _raw("}")]
        return text  # a file of the repository: the PDF lives elsewhere, the name is in the text

    def walk(self, value):
        if isinstance(value, list):
            out = []
            for item in value:
                if isinstance(item, dict) and item.get("t") in _INLINE:
                    out.extend(self.inline(item))
                elif isinstance(item, dict) and item.get("t") in _BLOCK:
                    out.extend(self.block(item))
                else:
                    out.append(self.walk(item))
            return out
        if isinstance(value, dict):
            return {key: self.walk(item) for key, item in value.items()}
        return value

    def block(self, node: dict) -> list[dict]:
        if node["t"] == "Para":
            placed = self.float(node["c"])
            if placed is not None:
                return [placed]
        if node["t"] == "CodeBlock" and "mermaid" in node["c"][0][1]:
            return []  # a diagram for the code host; the report has none
        if node["t"] == "Table":
            _fit_columns(node)
        if node["t"] == "Header":  # the documents' own anchors are the labels, not pandoc's ids
            node["c"][1][0] = ""
            return [node]  # as pandoc writes it, with a plain form for the PDF's bookmarks
        if node["t"] == "CodeBlock":  # commands: small enough that a 100-character line fits
            text = node["c"][1]
            if not text.isascii():
                raise ValueError(f"docs/{self.paper}.md: a code block holds non-ASCII text")
            return [{"t": "RawBlock", "c": ["latex", _CODE_BLOCK.format(text)]}]
        return [self.walk(node)]

    def float(self, inlines: list[dict]) -> dict | None:
        """A figure or table paragraph (anchor ``f<k>``/``t<k>`` then **F<k>**/**T<k>**)."""
        if len(inlines) < 3 or inlines[0]["t"] != "RawInline":
            return None
        anchor = _ANCHOR.fullmatch(inlines[0]["c"][1])
        strong = next((i for i in inlines if i["t"] == "Strong"), None)
        if not anchor or strong is None or not _FLOAT.fullmatch(anchor[1].upper()):
            return None
        name, label = anchor[1].upper(), self.label(anchor[1])
        kind, files = ("table", self.tables) if name.startswith("T") else ("figure", self.figures)
        if name not in files:
            raise ValueError(
                f"docs/{self.paper}.md#{anchor[1]}: the workflow makes no {kind} {name}"
            )
        self.placed.add(name)
        if kind == "table":
            return {"t": "Plain", "c": [_raw(label + rf"\input{{{files[name]}}}")]}
        caption = self.walk([i for i in inlines[1:] if i["t"] != "RawInline"])
        while caption and caption[0]["t"] in ("SoftBreak", "Space"):
            caption.pop(0)
        head = (
            r"\begin{figure}[htbp]\centering"
            rf"\includegraphics[width=\textwidth,height=0.42\textheight,keepaspectratio]"
            rf"{{{files[name]}}}\caption{{"
        )
        return {"t": "Plain", "c": [_raw(head), *caption, _raw("}" + label + r"\end{figure}")]}


_INLINE = {"RawInline", "Code", "Link", "Math"}
_BLOCK = {"Para", "CodeBlock", "Table", "Header"}
_CODE_BLOCK = "{{\\footnotesize\n\\begin{{verbatim}}\n{}\n\\end{{verbatim}}\n}}"
_NARROW = 90  # characters: a table whose widest cells sum to less keeps natural columns


def _text_length(value, word: bool = False) -> int:
    """About how many characters a piece of the AST prints (math about half its source); with
    ``word``, the longest piece that cannot break (identifiers break after . / _)."""
    if isinstance(value, list):
        lengths = [_text_length(item, word) for item in value]
        return max(lengths, default=0) if word else sum(lengths)
    if not isinstance(value, dict):
        return 0
    kind, content = value.get("t"), value.get("c")
    if kind == "Str":
        return len(content)
    if kind == "Code":
        return max(map(len, re.split(r"[./_,=]", content[1]))) if word else len(content[1])
    if kind == "Space":
        return 0 if word else 1
    if kind == "Math":
        return len(content[1]) // 2
    return _text_length(content, word)


def _fit_columns(table: dict) -> None:
    """Give a wide table's columns widths in proportion to their widest cells (capped, and
    never narrower than their longest word), so that pandoc wraps them on the page."""
    _, _, colspecs, head, bodies, _ = table["c"]
    rows = head[1] + [row for body in bodies for row in body[2] + body[3]]
    widest = [0] * len(colspecs)
    for row in rows:
        for j, cell in enumerate(row[1]):
            width = max(min(_text_length(cell[4]), 60), _text_length(cell[4], word=True) + 2)
            widest[j] = max(widest[j], width)
    if sum(widest) < _NARROW:
        return
    for spec, width in zip(colspecs, widest, strict=True):
        spec[1] = {"t": "ColWidth", "c": width / sum(widest)}


def document_latex(
    markdown: str,
    paper: str,
    *,
    papers,
    claims,
    figures: Mapping[str, str],
    tables: Mapping[str, str],
) -> str:
    """The LaTeX of ``docs/<paper>.md`` without its title (the report's section heading).

    ``claims`` are the ledger's claim ids, ``figures`` and ``tables`` map ``F<k>``/``T<k>`` to
    the paths (as LaTeX sees them) of the files the workflow made; every one of them must be
    placed by the document, and the document may place no other."""
    import pypandoc

    ast = json.loads(pypandoc.convert_text(markdown, "json", format="gfm+tex_math_dollars"))
    blocks = ast["blocks"]
    if blocks and blocks[0]["t"] == "Header" and blocks[0]["c"][0] == 1:
        blocks = blocks[1:]
    converter = _Converter(paper, papers, claims, figures, tables)
    ast["blocks"] = converter.walk(blocks)
    missing = sorted((set(figures) | set(tables)) - converter.placed)
    if missing:
        raise ValueError(f"docs/{paper}.md does not place {', '.join(missing)} (figures section)")
    options = ["--wrap=preserve", "--syntax-highlighting=none"]
    latex = pypandoc.convert_text(json.dumps(ast), "latex", format="json", extra_args=options)
    return latex_symbols(latex, where=f"docs/{paper}.md")


def float_files(paths, root: str = "..") -> dict[str, str]:
    """``results/<paper>/figures/F3.pdf`` → ``{"F3": "../results/<paper>/figures/F3.pdf"}``:
    the name of each figure or table file, and its path seen from the report's directory."""
    out = {}
    for path in map(Path, paths):
        match = re.search(r"([FT]\d+)$", path.stem)
        if match is None:
            raise ValueError(f"{path}: not a figure F<k> or table T<k> file")
        relative = path.relative_to("paper") if path.parts[0] == "paper" else Path(root) / path
        out[match[1]] = relative.as_posix()
    return out
