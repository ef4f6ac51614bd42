"""Reading and schema-checking config files, with one short line per error.

Snakemake's loader lets a later duplicate key win silently and its schema errors print the
whole schema and config. Here every config file is re-read strictly (duplicate keys, syntax
errors and empty files fail naming the file) and the schema's most relevant error is reported
as ``config key a.b.c: reason``. Both run in the Snakefile before any job is scheduled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from sgdsde.config import ConfigError

# jsonschema imports its optional IRI format checker, which compiles 38 grammars (≈ 5 s) at every
# Snakemake start, each cluster job's included; no schema here uses the IRI formats.
sys.modules.setdefault("rfc3987_syntax", None)
import jsonschema  # noqa: E402

#: libyaml's parser when PyYAML was built with it (≈ 10× faster), with PyYAML's safe constructor.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    """The data of a YAML document, safely constructed."""
    return yaml.load(text, Loader=SafeLoader)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, line: int, key):
        super().__init__(f"{line}: duplicate key {key!r}")
        self.line, self.key = line, key


class _UniqueKeyLoader(SafeLoader):
    """A safe loader that refuses a mapping key given twice."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(key_node.start_mark.line + 1, key)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def load_config_file(path: Path | str) -> dict:
    """The mapping in ``path``; :class:`ConfigError` naming the file if it is not one."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=_UniqueKeyLoader)
    except _DuplicateKey as err:
        raise ConfigError(f"{path}:{err.line}: duplicate key {err.key!r}") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f":{where.line + 1}" if where else ""
        reason = getattr(err, "problem", None) or err
        raise ConfigError(f"{path}{line}: not valid YAML ({reason})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(data, dict):
        found = type(data).__name__
        raise ConfigError(f"{path}: must hold a mapping of config keys, found {found}")
    return data


def _key(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def validate_schema(config: dict, schema_path: Path | str) -> None:
    """Raise :class:`ConfigError` with the most relevant schema violation, in one line."""
    schema = read_yaml(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    message = error.message if len(error.message) <= 200 else error.message[:200] + " …"
    raise ConfigError(
        f"config key {_key(error.absolute_path)}: {message} (see {Path(schema_path).name})"
    )
