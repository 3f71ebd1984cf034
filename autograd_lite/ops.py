"""The derivative rules: every primitive operation, written once.

Each op is a row of data, in the spirit of HIPS autograd:

* ``forward(xp, *inputs)`` computes the output,
* ``local_grads(xp, out, *inputs)`` says how much the output moves when each
  input moves (the partial derivatives d out / d input), given the output and
  the inputs,
* ``valid(*inputs)`` (optional) says whether the inputs are in the op's domain,
  and ``domain`` explains the domain when they are not,
* ``local_text`` writes the local derivatives as formulas for the stepper's ledger
  (``{0}``, ``{1}`` stand for the inputs' values, ``{out}`` for the output's and
  ``{param}`` for the parameter; one string for every input of an n-ary op, or a
  function of the number of inputs).

``xp`` is the maths library to use: :data:`scalar_math` (plain Python floats)
for the eager engine, :mod:`numpy` for the batched tape. Everything that needs
a derivative -- ``Value.backward``, the step-by-step stepper, the tape, the
edge labels of graph drawings and ``grad(create_graph=True)`` -- reads it from
:data:`OPS`, so a rule is never written twice.

``grad(create_graph=True)`` evaluates the rules with Values as inputs (its ``xp``
is ``higher_order.value_math``), which builds the graph of the derivative. So a
rule compares its inputs only with ``<`` and ``>``, because a Value's ``==`` is
identity, not its number.

Your own op is one more row: ``define_op`` (custom_ops.py) writes it into OPS.

Ops whose name ends in a number-valued parameter (``powc`` for ``x ** 3``,
``leaky_relu`` for its slope) receive that parameter as their last input; it
is a plain number, not a node, and gets no gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class _ScalarMathType(type):
    def __getattr__(cls, name: str) -> Any:  # only called for names it lacks
        have = ", ".join(sorted(k for k in vars(cls) if not k.startswith("_")))
        raise AttributeError(f"xp.{name}: the eager engine's xp (ops.scalar_math) has no {name!r}, only "
                             f"{have}; write the rule with these (NumPy's names), or add it to scalar_math")


class scalar_math(metaclass=_ScalarMathType):  # noqa: N801 - used like a module, as `xp`
    """NumPy's names for the math functions rules use, on Python floats."""

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    expm1 = staticmethod(math.expm1)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sinh = staticmethod(math.sinh)
    cosh = staticmethod(math.cosh)
    sin = staticmethod(lambda x: math.nan if math.isinf(x) else math.sin(x))  # nan at inf, as NumPy
    cos = staticmethod(lambda x: math.nan if math.isinf(x) else math.cos(x))  # and PyTorch (math
    tan = staticmethod(lambda x: math.nan if math.isinf(x) else math.tan(x))  # raises ValueError)
    arctan = staticmethod(math.atan)
    abs = staticmethod(abs)
    pi = math.pi
    e = math.e

    @staticmethod
    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def ones_like(x: Any) -> float:
        return 1.0


# one formula for every input, one per input, or (n-ary ops) a function of the number of inputs
LocalText = str | tuple[str, ...] | Callable[[int], tuple[str, ...]]


@dataclass(frozen=True)
class Op:
    """One primitive operation and its derivative rule."""

    name: str  # 'mul'
    symbol: str  # '*': what drawings show, and what micrograd calls `_op`
    forward: Callable[..., Any]
    local_grads: Callable[..., tuple[Any, ...]]
    valid: Callable[..., Any] | None = None  # inputs -> bool (array of bools)
    domain: str = ""  # why `valid` failed, said in the error
    has_param: bool = False  # takes a plain-number parameter as last input
    error: type[Exception] = ValueError  # what a failed `valid` raises
    local_text: LocalText = ""  # the local derivatives as formulas, for ledgers and drawings

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _is_integer(c: Any) -> Any:
    return c == c // 1


# Domain checks let nan through, and inf where the maths has a limit: both propagate, as in PyTorch.
def _nan(x: Any) -> Any:
    return x != x


def _infinite(x: Any) -> Any:
    return abs(x) == math.inf


OPS: dict[str, Op] = {}


def rule(name: str, symbol: str, forward: Callable[..., Any], local_grads: Callable[..., tuple[Any, ...]],
         valid: Callable[..., Any] | None = None, domain: str = "", has_param: bool = False,
         error: type[Exception] = ValueError, local_text: LocalText = "") -> Op:
    op = Op(name, symbol, forward, local_grads, valid, domain, has_param, error, local_text)
    OPS[name] = op
    return op


# --- arithmetic ---------------------------------------------------------------
# d(x + y)/dx = 1, d(x + y)/dy = 1
ADD = rule("add", "+",
           lambda xp, x, y: x + y,
           lambda xp, out, x, y: (xp.ones_like(x), xp.ones_like(y)),
           local_text=("1", "1"))

# d(x / y)/dx = 1 / y, d(x / y)/dy = -x / y^2, computed as -(x / y) / y: PyTorch's rounding, and
# no y * y to underflow (x = 1e-300, y = 1e-200 gives -1e100, not -inf)
# (a primitive, not x * y^-1, which is off by one ulp in a quarter of cases: 0.3 / 0.1)
DIV = rule("div", "/",
           lambda xp, x, y: x / y,
           lambda xp, out, x, y: (1.0 / y, -out / y),
           valid=lambda x, y: y != 0,
           domain="the divisor must not be 0", error=ZeroDivisionError,
           local_text=("1 / {1}", "-{0} / {1}²"))

# d(x * y)/dx = y, d(x * y)/dy = x
MUL = rule("mul", "*",
           lambda xp, x, y: x * y,
           lambda xp, out, x, y: (y, x),
           local_text=("{1}", "{0}"))

# sum(x1..xn): one node for a whole sum; d/dxi = 1 for every i
SUM = rule("sum", "sum",
           lambda xp, *xs: sum(xs[1:], xs[0]),
           lambda xp, out, *xs: (xp.ones_like(out),) * len(xs),
           local_text="1")


# dot(w1..wn, x1..xn, b) = w1*x1 + ... + wn*xn + b: a neuron's weighted sum as one node.
# Its inputs are the n weights, then the n inputs, then the bias.
# d/dwi = xi, d/dxi = wi, d/db = 1
def _dot(xp: Any, *wxb: Any) -> Any:
    n = len(wxb) // 2
    terms = [w * x for w, x in zip(wxb[:n], wxb[n:2 * n])] + [wxb[-1]]
    return sum(terms[1:], terms[0])  # in the order of value_sum(products + [b]): the same float


def _dot_grads(xp: Any, out: Any, *wxb: Any) -> tuple[Any, ...]:
    n = len(wxb) // 2
    return (*wxb[n:2 * n], *wxb[:n], xp.ones_like(out))  # the xs for the ws, the ws for the xs, 1 for b


def _dot_text(n_inputs: int) -> tuple[str, ...]:
    n = n_inputs // 2  # "{3}" is the value of input 3: wi's derivative is xi, which is input n + i
    return (*(f"{{{n + i}}}" for i in range(n)), *(f"{{{i}}}" for i in range(n)), "1")


DOT = rule("dot", "w·x+b", _dot, _dot_grads, local_text=_dot_text)

# x ** c with c a plain number: d/dx = c * x^(c-1), and 0 for c = 0 at every x, x = 0 included
# (x^0 = 1; x^-1 at x = 0 would make it 0 * inf = nan; PyTorch's pow_backward says 0 too)
POWC = rule("powc", "**",
            lambda xp, x, c: x ** c,
            lambda xp, out, x, c: (c * xp.where(c == 0, 1.0, x) ** (c - 1),),
            valid=lambda x, c: (x > 0) | ((x == 0) & (c >= 0)) | ((x < 0) & _is_integer(c))
            | _nan(x) | _nan(c) | _infinite(c),  # (-2) ** inf is inf, as IEEE pow and PyTorch
            domain="a negative base needs a whole-number exponent, and 0 a non-negative one",
            has_param=True, local_text=("{param} × {0}^({param} - 1)",))

# x ** y with y a node: d/dx = y * x^(y-1), d/dy = x^y * ln(x)
# (ln(x) is undefined for x <= 0: like PyTorch, d/dy is 0 at x = 0 and nan for x < 0)
POW = rule("pow", "**",
           lambda xp, x, y: x ** y,
           # d/dx is 0 for y = 0 at every x: at x = 0 too (not 0 * 0^-1), where the base is replaced by 1.
           # (No ==: the rule also runs on Values, whose == is identity; and d/dy of d/dx stays x^(y-1).)
           lambda xp, out, x, y: (y * xp.where((xp.abs(x) > 0) | (xp.abs(y) > 0), x, 1.0) ** (y - 1),
                                  xp.where(x > 0, out * xp.log(xp.where(x > 0, x, 1.0)),
                                           xp.where(x < 0, math.nan * out, 0.0 * x))),  # nan for nan x
           valid=lambda x, y: (x > 0) | ((x == 0) & (y >= 0)) | ((x < 0) & _is_integer(y))
           | _nan(x) | _nan(y) | _infinite(y),
           domain="a negative base needs a whole-number exponent, and 0 a non-negative one",
           local_text=("{1} × {0}^({1} - 1)", "{out} × ln({0})"))

# --- functions of one input -----------------------------------------------------
# d/dx e^x = e^x
EXP = rule("exp", "exp",
           lambda xp, x: xp.exp(x),
           lambda xp, out, x: (out,),
           valid=lambda x: (x <= 709.782712893384) | (x == math.inf) | _nan(x),  # ln(largest float);
           domain="exp overflows a float for inputs above ~709.78",  # exp(inf) is inf, exp(nan) nan
           error=OverflowError, local_text=("{out}",))

# d/dx ln(x) = 1 / x
LOG = rule("log", "log",
           lambda xp, x: xp.log(x),
           lambda xp, out, x: (1.0 / x,),
           valid=lambda x: (x > 0) | _nan(x),
           domain="log is only defined for positive values", local_text=("1 / {0}",))

# d/dx tanh(x) = 1 - tanh(x)^2
TANH = rule("tanh", "tanh",
            lambda xp, x: xp.tanh(x),
            lambda xp, out, x: (1.0 - out * out,),
            local_text=("(1 - {out}²)",))

# sigmoid(x) = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2, which never overflows
# d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))
SIGMOID = rule("sigmoid", "σ",
               lambda xp, x: 0.5 * (1.0 + xp.tanh(0.5 * x)),
               lambda xp, out, x: (out * (1.0 - out),),
               local_text=("{out} × (1 - {out})",))

# relu(x) = max(x, 0); d/dx = 1 where x > 0, else 0 (0 at the kink, as PyTorch; relu(nan) is nan)
RELU = rule("relu", "ReLU",
            lambda xp, x: xp.where(x <= 0, 0.0, x),
            lambda xp, out, x: (xp.where(x <= 0, 0.0, 1.0),),  # 1 at nan, as PyTorch's threshold_backward
            local_text=("(0 if {0} <= 0 else 1)",))  # (1 at nan, as the rule)

# leaky_relu(x, s) = x if x > 0 else s * x; d/dx = 1 or s
LEAKY_SLOPE = 0.01  # s when none is given (PyTorch's default): Value.leaky_relu, nn's "leaky_relu"
LEAKY_RELU = rule("leaky_relu", "LeakyReLU",
                  lambda xp, x, s: xp.where(x > 0, x, s * x),
                  lambda xp, out, x, s: (xp.where(x > 0, 1.0, s),),
                  has_param=True, local_text=("(1 if {0} > 0 else {param})",))

# at_least(x, lo) = max(x, lo): x, shifted up to lo where it is below. The shift counts as a
# constant (it keeps a log finite; it is not something to learn), so d/dx = 1 everywhere:
# binary_cross_entropy's log(at_least(p, 1e-12)) keeps the slope 1/1e-12 at p = 0, as PyTorch's BCELoss.
AT_LEAST = rule("at_least", "max(·, lo)",
                lambda xp, x, lo: xp.where(x < lo, lo, x),  # (a nan stays nan)
                lambda xp, out, x, lo: (xp.ones_like(x),),
                has_param=True, local_text=("1",))

# max(x1..xn): the largest input (nan if any is nan). d/dxi = 1 for the largest, shared evenly
# when several tie (as torch.amax). cross_entropy subtracts it for the log-sum-exp trick: as a
# node, not a number read from .data, so the graph never depends on the data and a tape
# replays logits of any size. (Its gradient there is 0 up to rounding: the shift cancels.)
def _max(xp: Any, *xs: Any) -> Any:
    m = xs[0]
    for x in xs[1:]:
        m = xp.where((x > m) | (x != x), x, m)  # a nan wins, so it propagates
    return m


def _max_grads(xp: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
    hits = [xp.where(x >= out, 1.0, 0.0) for x in xs]  # (>=: the largest; == on Values is identity)
    ties = sum(hits[1:], hits[0])
    # 1 / ties for the largest (h = 1), 0 for the others; a nan max equals no input: 0 / 0, nan
    # for every input, as torch.amax. (h * (1 / ties) is h / ties exactly, as h is 0 or 1.)
    share = xp.where(ties == 0, math.nan, 1.0 / xp.where(ties == 0, 1.0, ties))
    return tuple([h * share for h in hits])


def _max_text(n: int) -> tuple[str, ...]:  # [x = out] / (how many inputs equal out), in Python
    ties = " + ".join(f"({{{j}}} == {{out}})" for j in range(n))
    return tuple(f"({{{i}}} == {{out}}) / ({ties})" if n > 1 else "1" for i in range(n))


MAX = rule("max", "max", _max, _max_grads, local_text=_max_text)

# d/dx |x| = sign(x) (0 at the kink, as PyTorch)
ABS = rule("abs", "abs",
           lambda xp, x: xp.abs(x),
           lambda xp, out, x: (xp.where(x > 0, 1.0, xp.where(x < 0, -1.0, 0.0)),),
           local_text=("sign({0})",))

# d/dx sin(x) = cos(x)
SIN = rule("sin", "sin",
           lambda xp, x: xp.sin(x),
           lambda xp, out, x: (xp.cos(x),),
           local_text=("cos({0})",))

# d/dx cos(x) = -sin(x)
COS = rule("cos", "cos",
           lambda xp, x: xp.cos(x),
           lambda xp, out, x: (-xp.sin(x),),
           local_text=("-sin({0})",))

#: The ops above; define_op (custom_ops.py) adds rows to OPS but never replaces these.
BUILTIN_OPS = frozenset(OPS)
