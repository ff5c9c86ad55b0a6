"""Nested equations as chains of single-operation steps, for the method's scaffold."""

from __future__ import annotations

import pytest

from smolab.paper.unnest import as_written, defines, definitions, steps, uses


def test_a_nested_block_equation_becomes_one_operation_per_step_in_order():
    assert steps("h = W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2") == [
        "t_1 = LayerNorm(x)",
        "t_2 = W_1 t_1 + b_1",
        "t_3 = GELU(t_2)",
        "h = W_2 t_3 + b_2",
    ]


def test_an_equation_that_is_one_operation_is_one_step():
    assert steps("y = x + α h") == ["y = x + α h"]


def test_a_chain_of_definitions_takes_its_last_explicit_form_and_drops_the_number_and_prose():
    eq = "s = F_{ex}(z, W) = σ(g(z, W)) = σ(W_2 δ(W_1 z)), (3) ^{Cr ×C} and W_2 ∈ R^{C× C}"
    assert steps(eq) == ["t_1 = W_1 z", "t_2 = δ(t_1)", "t_3 = W_2 t_2", "s = σ(t_3)"]
    assert steps("x̃_c = F_{scale}(u_c, s_c) = s_c u_c, (4) where X̃ is the output") == ["x̃_c = s_c u_c"]


def test_products_quotients_and_brackets():
    # Juxtaposed symbols are a product ("βx"); a bracket after a space multiplies, not applies.
    assert steps("f(x) = x · sigmoid(βx)") == ["t_1 = β x", "t_2 = sigmoid(t_1)", "f(x) = x · t_2"]
    assert steps("x̂_i = 1/σ_i (x_i − µ_i). (1)") == ["t_1 = x_i - µ_i", "x̂_i = 1/σ_i t_1"]
    cosine = "η_t = η_min + 1/2(η_max − η_min)(1 + cos(T_cur/T_i π)), (5)"
    assert steps(cosine) == [
        "t_1 = η_max - η_min",
        "t_2 = T_cur/T_i π",
        "t_3 = cos(t_2)",
        "t_4 = 1 + t_3",
        "η_t = η_min + 1/2 t_1 t_4",
    ]


def test_intermediate_names_never_clash_with_the_equations_symbols():
    found = steps("y = t + W_1 ReLU(W_2 t)")
    assert found == ["u_1 = W_2 t", "u_2 = ReLU(u_1)", "y = t + W_1 u_2"]


@pytest.mark.parametrize(
    "eq",
    [
        "z_c = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j). (2)",  # sums
        "S_i = {k | k_N = i_N, ⌊k_C/(C/G)⌋ = ⌊i_C/(C/G)⌋}. (7)",  # sets
        "L = -∑_{c=1}^C q_c log p_c, q_c = (1-ϵ) [c = y] + ϵ / C .",
        "y = GELU(x",  # unbalanced
        "no equation here",
        "= x",
    ],
)
def test_what_the_notation_cannot_hold_is_left_as_it_is(eq):
    assert steps(eq) is None


def test_an_equation_that_cannot_be_unnested_is_still_one_line_as_written():
    squeeze = "z_c = F_{sq}(u_c) = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j). (2)"
    # The "=" inside the sum's limits is not a side of the equation.
    assert as_written(squeeze) == "z_c = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j)"
    assert as_written("S_i = {k | k_N = i_N}. (4)") == "S_i = {k | k_N = i_N}"
    assert as_written("2/r ∑_{s=1}^S N_s · C_s^2, (5)") is None  # no left side
    assert as_written("{x | x > 0} = A") is None  # a left side that is not a symbol
    assert as_written("y = " + " + ".join(f"a_{i} x_{i}" for i in range(20))) is None  # prose-long


def test_what_an_equation_defines_and_reads():
    excitation = "s = F_{ex}(z, W) = σ(g(z, W)) = σ(W_2 δ(W_1 z)), (3)"
    assert defines(excitation) == "s" and defines("z_c = 1/(H × W) ∑_{i=1}^H u_c(i)") == "z"
    assert uses(excitation) == {"σ", "δ", "W", "z"}  # subscripts read as their base symbol
    assert "u" in uses("z_c = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j)")  # past the sum's limits
    assert defines("no equation") is None and uses("no equation") == set()


def test_a_display_of_several_definitions_is_one_equation_each():
    stats = "µ_i = 1/m ∑_{k∈Si} x_k, σ_i = √1/m ∑_{k∈Si} (x_k − µ_i)^2 + ϵ, (2)"
    assert definitions(stats) == ["µ_i = 1/m ∑_{k∈Si} x_k", "σ_i = √1/m ∑_{k∈Si} (x_k − µ_i)^2 + ϵ"]
    assert definitions("y = f(a, b) + c, (3)") == ["y = f(a, b) + c, (3)"]  # a comma inside a call
    assert "S" in uses(stats)  # a sum over a set reads the set
