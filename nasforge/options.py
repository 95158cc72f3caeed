"""Declared option constraints, checked by one validator (after scikit-learn's _param_validation).

A component declares the constraints of its constructor options once, as a class attribute, and
decorates ``__init__`` with :func:`validated`::

    class RegularizedEvolution(Strategy):
        options = {"population": Int(low=1), "dedupe": Choice("identity", "string", "none")}

        @validated
        def __init__(self, space, seed=0, population=20, dedupe="identity"): ...

Defaults stay in the signature (one place); the decorator checks and normalises (NumPy ints to
int, ints to float) every declared option before the body runs, and every bad value reads the
same: ``parameter population of RegularizedEvolution must be an integer >= 1, got 0``.
``--help`` lists the same declarations (:func:`describe_options`).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from .errors import ConfigError
from .validation import is_integer

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, kw_only=True)
class Constraint:
    """One option's rule; ``none=True`` also accepts None."""

    none: bool = False

    def accepts(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def normalise(self, value: Any) -> Any:
        return value

    def text(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def check(self, owner: str, name: str, value: Any) -> Any:
        """``value`` normalised, or a ConfigError in the one shared wording."""
        if value is None and self.none:
            return None
        if not self.accepts(value):
            raise ConfigError(f"parameter {name} of {owner} must be {self.describe()}, got {value!r}")
        return self.normalise(value)

    def describe(self) -> str:
        return f"{self.text()} or None" if self.none else self.text()


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def _in_bounds(x: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (x <= low if low_open else x < low):
        return False
    if high is not None and (x >= high if high_open else x > high):
        return False
    return True


@dataclass(frozen=True)
class Int(Constraint):
    low: int | None = None
    high: int | None = None

    def accepts(self, value: Any) -> bool:
        return is_integer(value) and _in_bounds(value, self.low, self.high, False, False)

    def normalise(self, value: Any) -> int:
        return int(value)

    def text(self) -> str:
        return "an integer" + _bounds(self.low, self.high, False, False)


@dataclass(frozen=True)
class Float(Constraint):
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        x = float(value)
        return math.isfinite(x) and _in_bounds(x, self.low, self.high, self.low_open, self.high_open)

    def normalise(self, value: Any) -> float:
        return float(value)

    def text(self) -> str:
        return "a number" + _bounds(self.low, self.high, self.low_open, self.high_open)


@dataclass(frozen=True)
class Bool(Constraint):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def text(self) -> str:
        return "true or false"


@dataclass(frozen=True, init=False)
class Choice(Constraint):
    choices: tuple[Any, ...] = ()

    def __init__(self, *choices: Any, none: bool = False) -> None:
        object.__setattr__(self, "choices", tuple(choices))
        object.__setattr__(self, "none", none)

    def accepts(self, value: Any) -> bool:
        try:
            return not isinstance(value, bool) and value in self.choices
        except TypeError:  # unhashable / incomparable
            return False

    def text(self) -> str:
        return "one of " + ", ".join(map(str, self.choices))


@dataclass(frozen=True)
class Str(Constraint):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value)

    def text(self) -> str:
        return "a non-empty string"


@dataclass(frozen=True)
class Map(Constraint):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def normalise(self, value: Any) -> dict:
        return dict(value)

    def text(self) -> str:
        return "a mapping"


@dataclass(frozen=True)
class Seq(Constraint):
    """A list / tuple (not a string); ``item`` constrains each element."""

    item: Constraint | None = None
    min_len: int = 0

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            return False
        if len(value) < self.min_len:
            return False
        return self.item is None or all(self.item.accepts(v) or (v is None and self.item.none) for v in value)

    def normalise(self, value: Any) -> list:
        if self.item is None:
            return list(value)
        return [None if v is None else self.item.normalise(v) for v in value]

    def text(self) -> str:
        base = {0: "a list", 1: "a non-empty list"}.get(self.min_len, f"a list of {self.min_len}+ items")
        return base + (f" whose items are each {self.item.describe()}" if self.item else "")


@dataclass(frozen=True, init=False)
class AnyOf(Constraint):
    """The first matching alternative wins (e.g. ``Bool()`` or ``Choice(...)``)."""

    alternatives: tuple[Constraint, ...] = ()

    def __init__(self, *alternatives: Constraint, none: bool = False) -> None:
        object.__setattr__(self, "alternatives", tuple(alternatives))
        object.__setattr__(self, "none", none)

    def accepts(self, value: Any) -> bool:
        return any(a.accepts(value) for a in self.alternatives)

    def normalise(self, value: Any) -> Any:
        return next(a for a in self.alternatives if a.accepts(value)).normalise(value)

    def text(self) -> str:
        return " or ".join(a.describe() for a in self.alternatives)


def owner_name(obj_or_cls: Any) -> str:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return cls.__name__


def declared(cls: type) -> dict[str, Constraint]:
    """The merged ``options`` of ``cls`` and its bases (a subclass may narrow or add options)."""
    out: dict[str, Constraint] = {}
    for klass in reversed(cls.__mro__):
        out.update(klass.__dict__.get("options", {}) or {})
    return out


def check_options(owner: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against the options ``owner`` (instance or class) declares."""
    cls = owner if isinstance(owner, type) else type(owner)
    spec = declared(cls)
    name = owner_name(cls)
    return {k: spec[k].check(name, k, v) if k in spec else v for k, v in values.items()}


def validated(init: F) -> F:
    """Decorate ``__init__``: declared options are checked and normalised before the body runs."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise ConfigError(f"{owner_name(self)}: {exc}") from None
        bound.apply_defaults()
        spec = declared(type(self))
        owner = owner_name(self)
        for key, value in list(bound.arguments.items()):
            if key in spec:
                bound.arguments[key] = spec[key].check(owner, key, value)
        return init(*bound.args, **bound.kwargs)

    return wrapper  # type: ignore[return-value]


def describe_options(cls: Any, skip: Sequence[str] = ("self", "space", "objectives")) -> list[tuple[str, str, str]]:
    """(name, default, constraint) of every constructor option, for ``--help`` and docs."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return []
    spec = declared(cls) if isinstance(cls, type) else {}
    rows = []
    for name, param in params.items():
        if name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = "required" if param.default is param.empty else repr(param.default)
        rows.append((name, default, spec[name].describe() if name in spec else ""))
    return rows


# --- components: registry kind, declared options, recorded constructor arguments ------------------


class Component:
    """Mixin of every extension point's base class (space, strategy, evaluator, executor, scheduler).

    ``kind`` and ``name`` place a class in the registry (and let an entry point register it);
    ``options`` declares constraints; the arguments a subclass's constructor was called with are
    recorded, so a study built from Python objects can store how to rebuild them
    (:func:`init_options`) and be resumed from the CLI.
    """

    kind: str = ""
    name: str = ""
    options: dict[str, Constraint] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_records_arguments", False):
            cls.__init__ = _recording(init)  # type: ignore[misc]


def _recording(init: F) -> F:
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if "_init_arguments" not in self.__dict__:  # the outermost (most derived) call wins
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                pass  # the constructor itself reports the mistake
            else:
                bound.apply_defaults()
                arguments = dict(list(bound.arguments.items())[1:])
                for name, param in signature.parameters.items():
                    if param.kind == param.VAR_KEYWORD:
                        arguments.update(arguments.pop(name, {}))
                    elif param.kind == param.VAR_POSITIONAL:
                        arguments.pop(name, None)
                self.__dict__["_init_arguments"] = arguments
        return init(self, *args, **kwargs)

    wrapper._records_arguments = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def init_options(obj: Any, skip: Sequence[str] = ("space", "seed", "objectives")) -> dict[str, Any] | None:
    """The JSON-serialisable constructor options ``obj`` was built with; None when unknown or not
    serialisable (then a study holding it can only be reopened from Python)."""
    import json

    arguments = obj.__dict__.get("_init_arguments") if hasattr(obj, "__dict__") else None
    if arguments is None:
        return None
    options = {k: v for k, v in arguments.items() if k not in skip}
    try:
        return json.loads(json.dumps(options, allow_nan=False, default=_plain))
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (a user's ``population=np.int64(6)`` is storable)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
