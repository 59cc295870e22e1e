"""Configs: TOML files read into typed, validated dataclasses; ``--set key=value`` overrides; TOML written back.

A recipe declares its config as a dataclass (the schema); sections are fields whose type is another dataclass
and appear as ``[section]`` tables in the file. Every value is checked against the field's annotation:
``bool``, ``int``, ``float`` (an int is accepted), ``str``, ``Literal[...]`` (the choices), ``list[T]``,
``tuple[T, ...]``, ``T | None`` and nested dataclasses. An unknown key, a wrong type, a value outside the
choices or a missing required key is a :class:`ConfigError` that names the key and what it accepts. A
dataclass's ``__post_init__`` may check ranges: its ``ValueError`` becomes a ConfigError naming the section.

``dumps(config)`` writes the resolved config as TOML that loads back to an equal config, so a run's
``config.toml`` is itself a config. Python 3.11+ reads TOML with the standard ``tomllib``; 3.10 uses the
``tomli`` package (the same parser, installed with nnkit on 3.10).

Example::

    @dataclass
    class Optim:
        name: Literal["sgd", "adam"] = "adam"
        lr: float = 1e-3

    @dataclass
    class Config:
        epochs: int = 10
        optim: Optim = field(default_factory=Optim)

    config = load_config(Config, "run.toml", ["optim.lr=0.01", "epochs=3"])
    save_config(config, "out/config.toml")
"""

import argparse
import dataclasses
import difflib
import json
import math
import os
import sys
import types
import typing

from nnkit.serialization import atomic_write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["ConfigError", "from_dict", "to_dict", "load_config", "parse_override", "dumps", "save_config",
           "parse_recipe_args"]


class ConfigError(ValueError):
    """A config file or override does not fit the schema: the message names the key and what it accepts."""


# -- types ------------------------------------------------------------------------------------------------------
def _fields(schema):
    hints = typing.get_type_hints(schema)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(schema) if f.init}


def _is_section(tp):
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _optional_inner(tp):
    """``T`` for ``T | None`` / ``Optional[T]``, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def _describe(tp):
    inner = _optional_inner(tp)
    if inner is not None:
        return f"{_describe(inner)} or none"
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = typing.get_args(tp)
        if origin is tuple and args[-1] is not Ellipsis:
            return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
        plural = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}.get(args[0])
        return f"a list of {plural}" if plural else f"a list, each item {_describe(args[0])}"
    if _is_section(tp):
        return f"a [{tp.__name__}] table"
    return {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _show(value):
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value) if isinstance(value, (str, bool)) else repr(value)


def _check(value, tp, key, shown=None):
    """``value`` converted to ``tp`` (int -> float, list -> tuple), or ConfigError naming ``key``.

    ``shown`` is the type named in the message when it is not ``tp`` (``T | None`` checks its value as ``T``).
    """
    inner = _optional_inner(tp)
    if inner is not None:
        return None if value is None else _check(value, inner, key, shown=tp)
    origin = typing.get_origin(tp)
    bad = ConfigError(f"{key} must be {_describe(shown or tp)}, got {_show(value)}")
    if origin is typing.Literal:
        if not any(type(value) is type(c) and value == c for c in typing.get_args(tp)):
            raise bad
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise bad
        args = typing.get_args(tp)
        if origin is tuple and args[-1] is not Ellipsis:  # tuple[int, str]: a fixed length and a type per place
            if len(value) != len(args):
                raise bad
            return tuple(_check(v, t, f"{key}[{i}]") for i, (v, t) in enumerate(zip(value, args)))
        items = [_check(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if _is_section(tp):
        if not isinstance(value, dict):
            raise bad
        return from_dict(tp, value, prefix=f"{key}.")
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if tp is int and isinstance(value, bool):
        raise bad
    if tp in (bool, int, str):
        if not isinstance(value, tp):
            raise bad
        return value
    raise TypeError(f"config schema: {key} has an unsupported annotation {tp!r}")


def _unknown_key(key, prefix, valid):
    where = f"in [{prefix[:-1]}]" if prefix else "at the top level"
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    return ConfigError(f"unknown key {prefix}{key}{hint}; valid keys {where}: {', '.join(valid)}")


# -- dict <-> config --------------------------------------------------------------------------------------------
def from_dict(schema, data, *, prefix=""):
    """Validate the mapping ``data`` (parsed TOML) against the dataclass ``schema``; returns the instance.

    Keys left out take the field's default; a field without a default is required.
    """
    fields = _fields(schema)
    for key in data:
        if key not in fields:
            raise _unknown_key(key, prefix, list(fields))
    values = {}
    for name, (tp, field) in fields.items():
        if name in data:
            values[name] = _check(data[name], tp, prefix + name)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required key {prefix}{name} ({_describe(tp)})")
    try:
        return schema(**values)
    except ValueError as err:
        where = f"[{prefix[:-1]}]" if prefix else "config"
        raise ConfigError(f"{where}: {err}") from None


def to_dict(config):
    """The config as nested plain dicts and lists (what ``dumps`` writes and ``from_dict`` reads)."""
    out = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            value = to_dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[field.name] = value
    return out


# -- overrides --------------------------------------------------------------------------------------------------
def _is_text(tp):
    if tp is str:
        return True
    if typing.get_origin(tp) is typing.Literal:
        return all(isinstance(c, str) for c in typing.get_args(tp))
    return False


def parse_override(schema, text):
    """Parse ``"key=value"`` (dotted keys reach into sections) into ``(path, value)`` by the field's type.

    Strings and string choices take the text as it is (quotes optional); ``none`` sets an optional field to
    None; every other value is read as a TOML value: ``3``, ``1e-3``, ``true``, ``[64, 32]``.

    Example::

        parse_override(Config, "optim.lr=0.01")     # (['optim', 'lr'], 0.01)
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. --set optim.lr=0.01")
    path = key.split(".")
    tp = schema
    for depth, part in enumerate(path):
        if not _is_section(tp):
            raise ConfigError(f"--set {key}: {'.'.join(path[:depth])} is not a section")
        fields = _fields(tp)
        if part not in fields:
            raise _unknown_key(part, "".join(p + "." for p in path[:depth]), list(fields))
        tp = fields[part][0]
    if _is_section(tp):
        names = ", ".join(f"{key}.{name}" for name in _fields(tp))
        raise ConfigError(f"--set {key}: {key} is a section; set its keys one by one: {names}")
    inner = _optional_inner(tp)
    if inner is not None and raw.lower() in ("none", "null"):
        return path, None
    if _is_text(inner or tp):
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1]
        return path, raw
    try:
        return path, tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        raise ConfigError(f"--set {key}={raw}: {raw!r} is not {_describe(tp)}") from None


def load_config(schema, path=None, overrides=()):
    """Read the TOML file ``path`` (or nothing: all defaults), apply ``overrides``, validate against ``schema``.

    Args:
        schema: the config dataclass.
        path: a TOML file, or None.
        overrides: ``"key=value"`` strings (see :func:`parse_override`), applied in order.

    Raises:
        ConfigError: naming the file and the key for any problem.
    """
    data = {}
    source = "defaults"
    if path is not None:
        source = os.fspath(path)
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {source} does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{source} is not valid TOML: {err}") from None
    for text in overrides:
        keys, value = parse_override(schema, text)
        table = data
        for part in keys[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {text}: {part} is not a table in {source}")
        table[keys[-1]] = value
    try:
        return from_dict(schema, data)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None


# -- config -> TOML ---------------------------------------------------------------------------------------------
def _toml_value(value, key):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's; DEL is the one control character JSON leaves bare and TOML forbids.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, key) for v in value) + "]"
    raise ConfigError(f"{key}: cannot write {type(value).__name__} {value!r} to TOML")


def _dump_table(config, prefix, lines):
    sections = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = prefix + field.name
        if dataclasses.is_dataclass(value):
            sections.append((key, value))
        elif value is None:
            if field.default is not None:
                raise ConfigError(f"{key} is None but its default is {field.default!r}: TOML has no null to write")
        else:
            lines.append(f"{field.name} = {_toml_value(value, key)}")
    for key, section in sections:
        lines.extend(["", f"[{key}]"])
        _dump_table(section, key + ".", lines)


def dumps(config, header=None):
    """The config as TOML text that :func:`load_config` reads back to an equal config.

    Args:
        config: a config dataclass instance.
        header: an optional comment placed at the top (one ``#`` line per line of text).
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    _dump_table(config, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def save_config(config, path, header=None):
    """Write ``dumps(config, header)`` to ``path`` (atomically); returns ``path``."""
    with atomic_write(path) as f:
        f.write(dumps(config, header).encode("utf-8"))
    return path


# -- command line -----------------------------------------------------------------------------------------------
def parse_recipe_args(schema, argv=None, *, description, default_config, default_out):
    """A recipe's command line: ``--config FILE [--set key=value ...] [--out DIR] [--quiet]``.

    Loads and validates the config; a config problem exits with status 2 and the message (argparse's
    ``error``), not a traceback.

    Returns:
        ``(config, args)``: the validated config and the parsed arguments (``args.out``, ``args.quiet``,
        ``args.config``, ``args.overrides``).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default=os.fspath(default_config),
                        help="TOML config file (default: %(default)s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.lr=0.01 (repeatable)")
    parser.add_argument("--out", default=os.fspath(default_out), help="output folder (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    args = parser.parse_args(argv)
    try:
        config = load_config(schema, args.config, args.overrides)
    except ConfigError as err:
        parser.error(str(err))
    return config, args
