"""Hardware cost of a (mixed-precision) network: BitOps, weight memory, energy.

Definitions (EdMIPS, Cai & Vasconcelos CVPR 2020, and the UNIQ / Baskin BOPs papers):

* ``BitOps`` of a layer = MACs x weight bits x activation bits; a 32-bit layer counts b = 32.
* weight memory = parameters x weight bits (+ one 32-bit scale per quantised tensor).
* energy per inference = sum over layers of
  ``MACs x (e_mult(b_w, b_a) + e_add(accumulator bits))`` + weight reads + input-activation reads.

Per-operation energies are the 45 nm figures of M. Horowitz, "Computing's energy problem (and what
we can do about it)", ISSCC 2014, Fig. 1.1.9 (0.9 V):

* integer multiply: 8 bit 0.2 pJ, 32 bit 3.1 pJ; integer add: 8 bit 0.03 pJ, 32 bit 0.1 pJ;
* float32 multiply 3.7 pJ, float32 add 0.9 pJ;
* SRAM read (8 KB cache) 5 pJ per 32-bit word; DRAM read 640 pJ per 32-bit word.

Between those points an integer multiply is scaled with the product of its operand widths (an
array multiplier has b_w x b_a partial-product cells; 8x8 -> 0.2 pJ gives 32x32 -> 3.2 pJ, close to
the measured 3.1 pJ), an add linearly with its width. A 32-bit operand on either side means a float
layer (fp32 multiply + add). Weights and input activations are read once per inference from SRAM
(on-chip buffers, the ASIC-like target whose energy the analytic model fits: see the research note,
R^2 0.975 against HW-NAS-Bench's Eyeriss energy); DRAM traffic is not modelled.

Every function takes plain numbers or torch tensors: with probability-weighted bit-widths from a
supernet the result is a differentiable expectation, which is how the cost enters the search loss.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

#: Horowitz ISSCC 2014, 45 nm, picojoules
E_INT8_MULT_PJ = 0.2
E_INT32_MULT_PJ = 3.1
E_INT8_ADD_PJ = 0.03
E_INT32_ADD_PJ = 0.1
E_FP32_MULT_PJ = 3.7
E_FP32_ADD_PJ = 0.9
E_SRAM_READ_32B_PJ = 5.0
E_DRAM_READ_32B_PJ = 640.0

FLOAT_BITS = 32
#: bit-widths the searchable precision choices are drawn from
BIT_CHOICES: tuple[int, ...] = (2, 4, 8, 32)


def mult_energy_pj(w_bits: int, a_bits: int) -> float:
    """One multiply: float32 if either side is 32 bits, else the 8x8 figure scaled by b_w*b_a/64."""
    if w_bits >= FLOAT_BITS or a_bits >= FLOAT_BITS:
        return E_FP32_MULT_PJ
    return E_INT8_MULT_PJ * (w_bits * a_bits) / 64.0


def add_energy_pj(w_bits: int, a_bits: int, fan_in: int) -> float:
    """One accumulate: float32 add, or an integer add as wide as the accumulator needs to be."""
    if w_bits >= FLOAT_BITS or a_bits >= FLOAT_BITS:
        return E_FP32_ADD_PJ
    acc = w_bits + a_bits + math.ceil(math.log2(max(fan_in, 1))) if fan_in > 1 else w_bits + a_bits
    return E_INT8_ADD_PJ * min(acc, 32) / 8.0


def mac_energy_table(bits: Sequence[int], fan_in: int) -> list[list[float]]:
    """``table[i][j]`` = energy (pJ) of one MAC with weight bits[i] and activation bits[j]."""
    return [[mult_energy_pj(w, a) + add_energy_pj(w, a, fan_in) for a in bits] for w in bits]


def sram_bit_pj() -> float:
    return E_SRAM_READ_32B_PJ / 32.0


def layer_cost(
    macs: float,
    params: float,
    inputs: float,
    fan_in: int,
    w_probs: Any,
    a_probs: Any,
    bits: Sequence[int] = BIT_CHOICES,
) -> dict[str, Any]:
    """Expected cost of one layer whose bit-widths are distributed as ``w_probs`` / ``a_probs``.

    ``macs`` multiply-accumulates per example, ``params`` weights, ``inputs`` input activations per
    example, ``fan_in`` products summed per output. Probabilities may be one-hot (a fixed layer) or
    soft (a supernet layer, torch tensors: the result is differentiable). Returns ``bitops``,
    ``weight_bits`` and ``energy_pj`` (same type as the inputs: float or tensor).
    """
    eb_w = sum(p * b for p, b in zip(_items(w_probs), bits))
    eb_a = sum(p * b for p, b in zip(_items(a_probs), bits))
    table = mac_energy_table(bits, fan_in)
    e_mac = sum(
        pw * pa * table[i][j]
        for i, pw in enumerate(_items(w_probs))
        for j, pa in enumerate(_items(a_probs))
    )
    weight_bits = params * eb_w
    energy = macs * e_mac + (weight_bits + inputs * eb_a) * sram_bit_pj()
    return {"bitops": macs * eb_w * eb_a, "weight_bits": weight_bits, "energy_pj": energy}


def one_hot(bits: Sequence[int], chosen: int) -> list[float]:
    return [1.0 if b == chosen else 0.0 for b in bits]


def fixed_layer_cost(
    macs: float, params: float, inputs: float, fan_in: int, w_bits: int, a_bits: int
) -> dict[str, float]:
    """Cost of a layer with fixed bit-widths (any widths, not only :data:`BIT_CHOICES`)."""
    bits = tuple(dict.fromkeys((w_bits, a_bits)))
    return layer_cost(macs, params, inputs, fan_in, one_hot(bits, w_bits), one_hot(bits, a_bits), bits)


def summarize(costs: Sequence[dict[str, Any]], scale_bits: int = 0) -> dict[str, float]:
    """Totals in report units: ``bitops_m`` (millions), ``weight_kb`` (KiB), ``energy_nj``.

    ``scale_bits`` adds the per-tensor scales' storage to the weight memory.
    """
    bitops = sum(float(c["bitops"]) for c in costs)
    weight_bits = sum(float(c["weight_bits"]) for c in costs) + scale_bits
    energy = sum(float(c["energy_pj"]) for c in costs)
    return {"bitops_m": bitops / 1e6, "weight_kb": weight_bits / 8 / 1024, "energy_nj": energy / 1e3}


def _items(probs: Any) -> list[Any]:
    if hasattr(probs, "unbind"):
        return list(probs.unbind(0))
    return list(probs)
