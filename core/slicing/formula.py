"""Cura's setting formulas, parsed to an AST and run by a small interpreter, never by ``eval``.

Only what the definitions of Cura use is allowed (scanned from the 4.13 definitions, quality,
variant and intent files): arithmetic, comparisons, boolean operators, conditionals, subscripts
without slices, list and tuple literals, list comprehensions and generator expressions, calls
to a fixed list of built-ins and to Cura's formula functions, and ``math.X`` for a fixed list
of ``X``. Any other name is a setting; any other attribute, call or syntax is refused when the
formula is parsed, before anything runs.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from core.slicing.errors import UnsafeFormula

Evaluator = Callable[["_Frame"], Any]

# The built-ins Cura's formulas call (or hand to map()), and nothing else.
SAFE_BUILTINS: Mapping[str, Callable[..., Any]] = {
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "float": float,
    "int": int,
    "len": len,
    "map": map,
    "max": max,
    "min": min,
    "round": round,
    "str": str,
    "sum": sum,
}

# Cura's own formula functions; the resolver supplies their implementations per evaluation.
CURA_FUNCTIONS: frozenset[str] = frozenset(
    {
        "extruderValue",
        "extruderValues",
        "resolveOrValue",
        "defaultExtruderPosition",
        "valueFromContainer",
        "extruderValueFromContainer",
        "anyExtruderWithMaterial",
        "anyExtruderNrWithOrDefault",
    }
)

# math.X that formulas may use. No factorial/comb/perm: they can run for minutes.
SAFE_MATH: Mapping[str, Any] = {
    name: getattr(math, name)
    for name in (
        "acos",
        "asin",
        "atan",
        "atan2",
        "ceil",
        "cos",
        "degrees",
        "e",
        "exp",
        "fabs",
        "floor",
        "hypot",
        "inf",
        "isclose",
        "log",
        "log10",
        "log2",
        "pi",
        "pow",
        "radians",
        "sin",
        "sqrt",
        "tan",
        "trunc",
    )
}

KNOWN_FUNCTIONS: frozenset[str] = frozenset(SAFE_BUILTINS) | CURA_FUNCTIONS

# Limits that keep a hostile formula from eating memory or CPU.
_MAX_SEQUENCE = 100_000
_MAX_INT_EXPONENT = 512


class FormulaRuntimeError(Exception):
    """A formula went beyond what the interpreter allows while running (too large a result)."""


class MissingSetting(KeyError):
    """A formula refers to a setting that has no value; Cura then gives the whole formula 0."""


@dataclass
class _Frame:
    lookup: Callable[[str], Any]
    functions: Mapping[str, Callable[..., Any]]
    local: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula; ``evaluate`` runs it against setting values."""

    text: str
    setting_names: frozenset[str]
    string_constants: frozenset[str]
    functions_called: frozenset[str]
    _run: Evaluator = field(repr=False, compare=False)

    def evaluate(
        self,
        lookup: Callable[[str], Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> Any:
        """Run the formula. ``lookup(name)`` gives a setting's value or raises ``MissingSetting``.

        ``functions`` supplies Cura's formula functions (extruderValue …); built-ins are fixed.
        Errors of the formula itself (division by zero, a missing setting …) propagate.
        """
        table: dict[str, Callable[..., Any]] = dict(SAFE_BUILTINS)
        if functions:
            for name, function in functions.items():
                if name in CURA_FUNCTIONS:
                    table[name] = function
        return self._run(_Frame(lookup=lookup, functions=table))


def parse_formula(text: str) -> Formula:
    """Parse and check a formula; raises ``UnsafeFormula`` naming what is not allowed."""
    return _parse_cached(text.strip())


@lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Formula:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise UnsafeFormula(f"The setting formula {text!r} is not valid: {exc.msg}.") from None
    compiler = _Compiler(text)
    run = compiler.compile(tree.body, frozenset())
    return Formula(
        text=text,
        setting_names=frozenset(compiler.setting_names),
        string_constants=frozenset(compiler.string_constants),
        functions_called=frozenset(compiler.functions_called),
        _run=run,
    )


def _bounded_size(value: Any) -> None:
    if isinstance(value, str | list | tuple) and len(value) > _MAX_SEQUENCE:
        raise FormulaRuntimeError("a formula built a sequence that is too long")


def _mult(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        if (
            isinstance(seq, str | list | tuple)
            and isinstance(count, int)
            and len(seq) * max(count, 0) > _MAX_SEQUENCE
        ):
            raise FormulaRuntimeError("a formula built a sequence that is too long")
    return left * right


def _pow(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and abs(right) > _MAX_INT_EXPONENT:
        raise FormulaRuntimeError("a formula raised a number to too large a power")
    return left**right


def _mod(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes):
        raise FormulaRuntimeError("string formatting is not allowed in formulas")
    return left % right


def _add(left: Any, right: Any) -> Any:
    result = left + right
    _bounded_size(result)
    return result


_BIN_OPS: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: _mult,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: _mod,
    ast.Pow: _pow,
}

_COMPARE_OPS: Mapping[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: bool(a == b),
    ast.NotEq: lambda a, b: bool(a != b),
    ast.Lt: lambda a, b: bool(a < b),
    ast.LtE: lambda a, b: bool(a <= b),
    ast.Gt: lambda a, b: bool(a > b),
    ast.GtE: lambda a, b: bool(a >= b),
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_UNARY_OPS: Mapping[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: lambda a: -a,
    ast.UAdd: lambda a: +a,
    ast.Not: lambda a: not a,
}


class _Compiler:
    """Turns a checked AST into nested closures; refuses every node it does not know."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.setting_names: set[str] = set()
        self.string_constants: set[str] = set()
        self.functions_called: set[str] = set()

    def refuse(self, what: str) -> UnsafeFormula:
        return UnsafeFormula(
            f"The setting formula {self.text!r} uses {what}, which is not allowed."
        )

    def compile(self, node: ast.expr, bound: frozenset[str]) -> Evaluator:
        method = getattr(self, f"_c_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(f"Python syntax '{type(node).__name__}'")
        result: Evaluator = method(node, bound)
        return result

    def _c_Constant(self, node: ast.Constant, bound: frozenset[str]) -> Evaluator:
        value = node.value
        if value is not None and not isinstance(value, bool | int | float | str):
            raise self.refuse(f"a constant of type {type(value).__name__}")
        if isinstance(value, str):
            self.string_constants.add(value)
        return lambda frame: value

    def _c_Name(self, node: ast.Name, bound: frozenset[str]) -> Evaluator:
        name = node.id
        if name.startswith("_"):
            raise self.refuse(f"the name {name!r}")
        if name in bound:
            return lambda frame: frame.local[name]
        if name in KNOWN_FUNCTIONS:
            return lambda frame: frame.functions[name]
        if name == "math":
            raise self.refuse("the math module other than as math.<function>")
        self.setting_names.add(name)

        def setting(frame: _Frame) -> Any:
            return frame.lookup(name)

        return setting

    def _c_Attribute(self, node: ast.Attribute, bound: frozenset[str]) -> Evaluator:
        if not (
            isinstance(node.value, ast.Name) and node.value.id == "math" and "math" not in bound
        ):
            raise self.refuse(f"attribute access '.{node.attr}'")
        if node.attr not in SAFE_MATH:
            raise self.refuse(f"math.{node.attr}")
        value = SAFE_MATH[node.attr]
        return lambda frame: value

    def _c_BinOp(self, node: ast.BinOp, bound: frozenset[str]) -> Evaluator:
        op = _BIN_OPS.get(type(node.op))
        if op is None:
            raise self.refuse(f"the operator {type(node.op).__name__}")
        left = self.compile(node.left, bound)
        right = self.compile(node.right, bound)
        return lambda frame: op(left(frame), right(frame))

    def _c_UnaryOp(self, node: ast.UnaryOp, bound: frozenset[str]) -> Evaluator:
        op = _UNARY_OPS.get(type(node.op))
        if op is None:
            raise self.refuse(f"the operator {type(node.op).__name__}")
        operand = self.compile(node.operand, bound)
        return lambda frame: op(operand(frame))

    def _c_BoolOp(self, node: ast.BoolOp, bound: frozenset[str]) -> Evaluator:
        values = [self.compile(value, bound) for value in node.values]
        if isinstance(node.op, ast.And):

            def and_(frame: _Frame) -> Any:
                result: Any = True
                for value in values:
                    result = value(frame)
                    if not result:
                        return result
                return result

            return and_

        def or_(frame: _Frame) -> Any:
            result: Any = False
            for value in values:
                result = value(frame)
                if result:
                    return result
            return result

        return or_

    def _c_Compare(self, node: ast.Compare, bound: frozenset[str]) -> Evaluator:
        ops = []
        for op_node in node.ops:
            op = _COMPARE_OPS.get(type(op_node))
            if op is None:
                raise self.refuse(f"the comparison {type(op_node).__name__}")
            ops.append(op)
        left = self.compile(node.left, bound)
        rights = [self.compile(c, bound) for c in node.comparators]

        def compare(frame: _Frame) -> bool:
            current = left(frame)
            for op, right in zip(ops, rights, strict=True):
                following = right(frame)
                if not op(current, following):
                    return False
                current = following
            return True

        return compare

    def _c_IfExp(self, node: ast.IfExp, bound: frozenset[str]) -> Evaluator:
        test = self.compile(node.test, bound)
        body = self.compile(node.body, bound)
        orelse = self.compile(node.orelse, bound)
        return lambda frame: body(frame) if test(frame) else orelse(frame)

    def _c_List(self, node: ast.List, bound: frozenset[str]) -> Evaluator:
        items = [self.compile(e, bound) for e in node.elts]
        return lambda frame: [item(frame) for item in items]

    def _c_Tuple(self, node: ast.Tuple, bound: frozenset[str]) -> Evaluator:
        items = [self.compile(e, bound) for e in node.elts]
        return lambda frame: tuple(item(frame) for item in items)

    def _c_Subscript(self, node: ast.Subscript, bound: frozenset[str]) -> Evaluator:
        if isinstance(node.slice, ast.Slice):
            raise self.refuse("a slice")
        value = self.compile(node.value, bound)
        index = self.compile(node.slice, bound)
        return lambda frame: value(frame)[index(frame)]

    def _c_Call(self, node: ast.Call, bound: frozenset[str]) -> Evaluator:
        if node.keywords:
            raise self.refuse("keyword arguments")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.refuse("starred arguments")
        func_node = node.func
        if isinstance(func_node, ast.Name):
            name = func_node.id
            if name not in KNOWN_FUNCTIONS or name in bound:
                raise self.refuse(f"a call to {name!r}")
            self.functions_called.add(name)
            args = [self.compile(arg, bound) for arg in node.args]

            def call(frame: _Frame) -> Any:
                function = frame.functions.get(name)
                if function is None:
                    raise FormulaRuntimeError(f"{name}() is not available here")
                result = function(*(arg(frame) for arg in args))
                _bounded_size(result)
                return result

            return call
        if isinstance(func_node, ast.Attribute):
            function = self.compile(func_node, bound)(_Frame(lambda _: None, {}))
            self.functions_called.add(f"math.{func_node.attr}")
            if not callable(function):
                raise self.refuse(f"a call to math.{func_node.attr}")
            args = [self.compile(arg, bound) for arg in node.args]
            return lambda frame: function(*(arg(frame) for arg in args))
        raise self.refuse("a call to something that is not a named function")

    def _comprehension(
        self, generators: list[ast.comprehension], bound: frozenset[str]
    ) -> tuple[
        list[tuple[Callable[[_Frame, Any], None], Evaluator, list[Evaluator]]], frozenset[str]
    ]:
        steps = []
        for generator in generators:
            if generator.is_async:
                raise self.refuse("async comprehensions")
            iterable = self.compile(generator.iter, bound)
            names = self._target_names(generator.target)
            bound = bound | frozenset(names)
            assign = self._assigner(generator.target)
            conditions = [self.compile(cond, bound) for cond in generator.ifs]
            steps.append((assign, iterable, conditions))
        return steps, bound

    def _target_names(self, target: ast.expr) -> list[str]:
        if isinstance(target, ast.Name):
            if target.id.startswith("_") or target.id in KNOWN_FUNCTIONS or target.id == "math":
                raise self.refuse(f"the loop name {target.id!r}")
            return [target.id]
        if isinstance(target, ast.Tuple):
            names: list[str] = []
            for element in target.elts:
                names.extend(self._target_names(element))
            return names
        raise self.refuse("a loop target that is not a plain name")

    def _assigner(self, target: ast.expr) -> Callable[[_Frame, Any], None]:
        if isinstance(target, ast.Name):
            name = target.id

            def assign_name(frame: _Frame, value: Any) -> None:
                frame.local[name] = value

            return assign_name
        assert isinstance(target, ast.Tuple)
        parts = [self._assigner(element) for element in target.elts]

        def assign_tuple(frame: _Frame, value: Any) -> None:
            values = list(value)
            if len(values) != len(parts):
                raise ValueError("cannot unpack to the loop names")
            for part, item in zip(parts, values, strict=True):
                part(frame, item)

        return assign_tuple

    def _iterate(
        self,
        frame: _Frame,
        steps: list[tuple[Callable[[_Frame, Any], None], Evaluator, list[Evaluator]]],
    ) -> Iterable[_Frame]:
        def walk(depth: int, current: _Frame) -> Iterable[_Frame]:
            if depth == len(steps):
                yield current
                return
            assign, iterable, conditions = steps[depth]
            for item in iterable(current):
                inner = _Frame(current.lookup, current.functions, dict(current.local))
                assign(inner, item)
                if all(condition(inner) for condition in conditions):
                    yield from walk(depth + 1, inner)

        return walk(0, frame)

    def _c_ListComp(self, node: ast.ListComp, bound: frozenset[str]) -> Evaluator:
        steps, inner_bound = self._comprehension(node.generators, bound)
        element = self.compile(node.elt, inner_bound)

        def list_comp(frame: _Frame) -> list[Any]:
            result = []
            for inner in self._iterate(frame, steps):
                result.append(element(inner))
                if len(result) > _MAX_SEQUENCE:
                    raise FormulaRuntimeError("a formula built a sequence that is too long")
            return result

        return list_comp

    def _c_GeneratorExp(self, node: ast.GeneratorExp, bound: frozenset[str]) -> Evaluator:
        steps, inner_bound = self._comprehension(node.generators, bound)
        element = self.compile(node.elt, inner_bound)

        def generator(frame: _Frame) -> Iterable[Any]:
            return (element(inner) for inner in self._iterate(frame, steps))

        return generator
