"""Twin tests of module containers, module lookups, dtype conversions, state_dict loading and
module hooks: the same code, written as PyTorch code, run with torch.nn and with nn."""
import collections

import numpy as np
import pytest
import torch

import nn

from twin import LIBS
from twin import layers as L


def plain(text):
    "A repr with the library's name taken out."
    return text.replace("torch.", "").replace("nn.", "")


def seeded_linear(lib, n_in, n_out, seed):
    "A Linear layer with the same weights in both libraries."
    layer = L(lib).Linear(n_in, n_out)
    rng = np.random.default_rng(seed)
    layer.load_state_dict({"weight": lib.tensor(rng.standard_normal((n_out, n_in)),
                                                dtype=lib.float32),
                           "bias": lib.tensor(rng.standard_normal(n_out),
                                              dtype=lib.float32)})
    return layer


def model(lib):
    "A module holding each kind of container."
    class Model(L(lib).Module):
        def __init__(self):
            super().__init__()
            self.layers = L(lib).ModuleList([seeded_linear(lib, 3, 3, i) for i in range(2)]
                                            + [L(lib).ReLU()])
            self.heads = L(lib).ModuleDict({"b": seeded_linear(lib, 3, 1, 5),
                                            "a": L(lib).Tanh()})
            self.params = L(lib).ParameterList([L(lib).Parameter(lib.zeros(2, 3)),
                                                lib.ones(4)])
            self.pd = L(lib).ParameterDict({"z": lib.ones(2), "a": lib.zeros(3)})
            self.register_buffer("scale", lib.ones(3))
            self.register_buffer("step", lib.tensor(3))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["b"](x) * self.pd["z"].sum()
    return Model()


def both(code):
    "code(lib) for torch and nn."
    return [code(lib) for lib in LIBS]


def test_names_in_named_parameters_state_dict_buffers():
    ours, theirs = both(lambda lib: (
        [name for name, _ in model(lib).named_parameters()], list(model(lib).state_dict()),
        [name for name, _ in model(lib).named_buffers()],
        [name for name, _ in model(lib).named_modules(prefix="m")]))
    assert ours == theirs
    assert "params.0" in ours[0] and "pd.a" in ours[0] and "scratch" not in ours[1]


def test_plain_tensors_become_parameters():
    for lib in LIBS:
        m = model(lib)
        assert isinstance(m.params[1], L(lib).Parameter)
        assert isinstance(m.pd["a"], L(lib).Parameter) and m.pd["a"].requires_grad


def test_repr():
    theirs, ours = both(lambda lib: plain(repr(model(lib))))
    assert ours == theirs


def test_module_list_operations():
    def run(lib):
        make = lambda: [L(lib).Linear(1, i + 1) for i in range(4)]
        ml = L(lib).ModuleList(make())
        out = [len(ml), type(ml[1:3]).__name__, len(ml[1:3]), ml[-1].out_features]
        ml.append(L(lib).ReLU())
        ml.extend([L(lib).Tanh()])
        ml.insert(1, L(lib).Sigmoid())
        out.append([type(m).__name__ for m in ml])
        del ml[0]
        del ml[1:3]
        out.append([type(m).__name__ for m in ml] + list(ml._modules))
        combined = ml + L(lib).ModuleList([L(lib).Identity()])
        out.append((type(combined).__name__, len(combined), list(combined._modules)))
        out.append(type(ml.pop(0)).__name__)
        ml += [L(lib).Identity()]
        ml[0] = L(lib).GELU()
        out.append([name for name, _ in ml.named_modules()])
        out.append(plain(repr(ml)))
        return out
    theirs, ours = both(run)
    assert ours == theirs


def test_module_dict_operations():
    def run(lib):
        md = L(lib).ModuleDict([("x", L(lib).ReLU()), ("a", L(lib).Tanh())])
        md.update({"c": L(lib).Identity()})
        md.update(collections.OrderedDict(b=L(lib).Sigmoid()))
        md["d"] = L(lib).Linear(1, 1)
        out = [list(md), list(md.keys()), [type(v).__name__ for v in md.values()],
               [k for k, _ in md.items()], "a" in md, "q" in md, len(md)]
        out.append(type(md.pop("a")).__name__)
        del md["x"]
        out.append(([n for n, _ in md.named_parameters()], plain(repr(md))))
        md.clear()
        out.append(len(md))
        return out
    theirs, ours = both(run)
    assert ours == theirs


def test_parameter_list_and_dict_operations():
    def run(lib):
        pl = L(lib).ParameterList()
        pl.append(lib.ones(2))
        pl.extend([lib.zeros(1, 2), L(lib).Parameter(lib.ones(3), requires_grad=False)])
        pl[0] = lib.full((2,), 5.0)
        out = [len(pl), [p.shape == (2,) for p in pl], type(pl[1:]).__name__,
               len(pl[1:]), pl[-1].requires_grad, pl[0].sum().item(),
               [n for n, _ in pl.named_parameters()], plain(repr(pl))]
        pd = L(lib).ParameterDict({"b": lib.ones(1), "a": lib.ones(2)})
        pd.update([("c", lib.ones(3))])
        pd["d"] = L(lib).Parameter(lib.zeros(1))
        out += [list(pd), list(pd.keys()), [k for k, _ in pd.items()],
                [v.numel() for v in pd.values()], "a" in pd, len(pd)]
        out.append(pd.pop("b").numel())
        del pd["c"]
        out += [[n for n, _ in pd.named_parameters()], plain(repr(pd)), list(pd.state_dict())]
        return out
    theirs, ours = both(run)
    assert ours == theirs


@pytest.mark.parametrize("bad", [
    lambda lib: L(lib).ModuleList([L(lib).ReLU()])[3],
    lambda lib: L(lib).ModuleList().extend(3),
    lambda lib: L(lib).ModuleList().append(3),
    lambda lib: L(lib).ModuleDict({"a": L(lib).ReLU()})["b"],
    lambda lib: L(lib).ModuleDict({1: L(lib).ReLU()}),
    lambda lib: L(lib).ParameterList([lib.ones(1)])[2],
    lambda lib: L(lib).ParameterList().extend(lib.ones(2)),
    lambda lib: L(lib).ParameterDict({"a": lib.ones(1)})["b"],
    lambda lib: L(lib).ParameterDict()[1],
    lambda lib: L(lib).ParameterDict([("a", lib.ones(1), 2)]),
    lambda lib: model(lib).get_submodule("layers.7"),
    lambda lib: model(lib).get_submodule("layers.0.weight"),
    lambda lib: model(lib).get_parameter("layers.0.missing"),
    lambda lib: model(lib).get_parameter("scale"),
    lambda lib: model(lib).to(lib.int64),
    lambda lib: model(lib).cuda() if lib is nn else (_ for _ in ()).throw(RuntimeError()),
])
def test_errors_have_torchs_types(bad):
    errors = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            bad(lib)
        errors.append((type(info.value), str(info.value)))
    assert errors[0][0] is errors[1][0]
    if errors[0][0] is AttributeError:  # same message too
        assert errors[0][1] == errors[1][1]


def test_get_submodule_and_parameter():
    theirs, ours = both(lambda lib: (
        type(model(lib).get_submodule("heads.b")).__name__,
        model(lib).get_submodule("") is not None,
        tuple(model(lib).get_parameter("layers.1.weight").shape),
        tuple(model(lib).get_parameter("pd.a").shape)))
    assert ours == theirs


def test_named_modules_memo_and_duplicates():
    def run(lib):
        shared = L(lib).Linear(1, 1)
        seq = L(lib).Sequential(shared, L(lib).ReLU(), shared)
        return ([n for n, _ in seq.named_modules()],
                [n for n, _ in seq.named_modules(remove_duplicate=False)],
                [n for n, _ in seq.named_modules(memo={shared}, prefix="p")])
    theirs, ours = both(run)
    assert ours == theirs


def test_load_state_dict_strict_and_not():
    def run(lib):
        m = model(lib)
        state = {k: v.clone() for k, v in model(lib).state_dict().items()}
        out = [repr(m.load_state_dict(state))]
        del state["scale"]
        state["extra"] = lib.ones(1)
        result = m.load_state_dict(state, strict=False)
        out += [type(result).__name__, result.missing_keys, result.unexpected_keys,
                list(result._fields)]
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(state)
        out.append(str(info.value).replace("Model", "M"))
        return out
    theirs, ours = both(run)
    assert ours == theirs


def test_to_double_half_float_type_convert_parameters_and_buffers():
    def run(lib):
        out = []
        for convert in (lambda m: m.double(), lambda m: m.to(lib.float64),
                        lambda m: m.to(dtype=lib.float16), lambda m: m.half(),
                        lambda m: m.double().float(), lambda m: m.to("cpu"),
                        lambda m: m.to(lib.zeros(1, dtype=lib.float64)),
                        lambda m: m.cpu(), lambda m: m.type(lib.float64),
                        lambda m: m.to("cpu", lib.float64)):
            m = model(lib)
            weight = m.layers[0].weight
            result = convert(m)
            out.append((result is m, m.layers[0].weight is weight,
                        [str(t.dtype).split(".")[-1] for t in m.parameters()],
                        [str(t.dtype).split(".")[-1] for t in m.buffers()]))
        return out
    theirs, ours = both(run)
    assert ours == theirs


def test_forward_hooks_order_changes_and_removal():
    def run(lib):
        calls = []
        layer = seeded_linear(lib, 2, 2, 0)
        h1 = layer.register_forward_pre_hook(lambda m, args: calls.append("pre1"))
        h2 = layer.register_forward_pre_hook(
            lambda m, args: (calls.append("pre2"), (args[0] * 2,))[1])
        h3 = layer.register_forward_hook(
            lambda m, args, out: calls.append(("fwd", args[0].sum().item())))
        h4 = layer.register_forward_hook(lambda m, args, out: out + 100)
        x = lib.tensor([[1.0, 2.0]])
        first = layer(x).detach().numpy().copy()
        h2.remove()
        h4.remove()
        h4.remove()
        second = layer(x).detach().numpy().copy()
        with layer.register_forward_pre_hook(lambda m, args: args[0] * 0):
            third = layer(x).detach().numpy().copy()
        h1.remove(), h3.remove()
        fourth = layer(x).detach().numpy().copy()
        return calls, first, second, third, fourth
    theirs, ours = both(run)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


class TwoInputs:
    "A module of two inputs: y = tanh(a * b) + a, with a non-tensor argument."

    @staticmethod
    def make(lib):
        class Two(L(lib).Module):
            def forward(self, a, b, scale):
                return lib.tanh(a * b) * scale + a
        return Two()


@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hook_grads_equal_torchs(replace):
    rng = np.random.default_rng(1)
    A, B, G = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))

    def run(lib):
        seen = []
        module = TwoInputs.make(lib)

        def hook(m, grad_input, grad_output):
            seen.append(([None if g is None else g.numpy().copy() for g in grad_input],
                         [g.numpy().copy() for g in grad_output]))
            if replace:
                return tuple(None if g is None else g * 3 for g in grad_input)
        handle = module.register_full_backward_hook(hook)
        a = lib.tensor(A, requires_grad=True)
        b = lib.tensor(B, requires_grad=True)
        module(a * 1, b, 2.0).backward(lib.tensor(G))
        handle.remove()
        a2 = lib.tensor(A, requires_grad=True)
        module(a2, b, 2.0).backward(lib.tensor(G))
        return seen, a.grad.numpy(), b.grad.numpy(), a2.grad.numpy()
    theirs, ours = both(run)
    assert len(ours[0]) == len(theirs[0]) == 1
    (our_in, our_out), (their_in, their_out) = ours[0][0], theirs[0][0]
    assert [g is None for g in our_in] == [g is None for g in their_in]
    for a, b in zip([g for g in our_in if g is not None] + our_out,
                    [g for g in their_in if g is not None] + their_out):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_full_backward_hook_on_a_layer_in_a_model():
    def run(lib):
        seen = []
        net = L(lib).Sequential(seeded_linear(lib, 2, 3, 0), L(lib).Tanh(),
                                seeded_linear(lib, 3, 1, 1))
        net[1].register_full_backward_hook(
            lambda m, gi, go: seen.append((gi[0].numpy().copy(), go[0].numpy().copy())))
        x = lib.tensor([[0.5, -1.0], [2.0, 0.1]])
        net(x).sum().backward()
        return seen, net[0].weight.grad.numpy()
    theirs, ours = both(run)
    assert len(ours[0]) == len(theirs[0]) == 1
    for a, b in zip(ours[0][0] + (ours[1],), theirs[0][0] + (theirs[1],)):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_full_backward_hook_when_no_input_requires_grad():
    def run(lib):
        seen = []
        layer = seeded_linear(lib, 2, 2, 0)
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.append((gi, go[0].numpy().copy())))
        layer(lib.tensor([[1.0, 2.0]])).sum().backward()
        return seen
    theirs, ours = both(run)
    assert len(ours) == len(theirs) == 1
    assert ours[0][0] == theirs[0][0] == (None,)
    np.testing.assert_allclose(ours[0][1], theirs[0][1])


def test_no_hooks_means_plain_forward():
    layer = nn.Linear(2, 2)
    assert not layer._hooked
    layer.register_forward_hook(lambda *a: None).remove()
    assert layer(nn.ones(1, 2)).shape == (1, 2)


def test_prepend_and_with_kwargs_hooks():
    def run(lib):
        calls = []

        class Scaled(L(lib).Module):
            def forward(self, x, scale=1.0):
                return x * scale
        m = Scaled()
        m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
        m.register_forward_pre_hook(lambda mod, args: calls.append("pre first"),
                                    prepend=True)
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (calls.append(("kw", sorted(kwargs))),
                                       (args, {"scale": kwargs["scale"] * 10}))[1],
            with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: calls.append("fwd"))
        m.register_forward_hook(
            lambda mod, args, kwargs, out: (calls.append(("fwd kw", kwargs["scale"])),
                                            out + 1)[1],
            with_kwargs=True, prepend=True)
        out = m(lib.ones(2), scale=2.0)
        return calls, out.tolist()
    theirs, ours = both(run)
    assert ours == theirs


def test_full_backward_hook_with_tuple_outputs():
    rng = np.random.default_rng(2)
    A, G1, G2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(3)

    def run(lib):
        seen = []

        class Split(L(lib).Module):
            def forward(self, a):
                return lib.sin(a), (a * a).sum(0)
        m = Split()
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(
            (len(gi), [g.numpy().copy() for g in gi], [g.numpy().copy() for g in go])))
        a = lib.tensor(A, requires_grad=True)
        first, second = m(a)
        ((first * lib.tensor(G1)).sum() + (second * lib.tensor(G2)).sum()).backward()
        return seen, a.grad.numpy()
    theirs, ours = both(run)
    assert len(ours[0]) == len(theirs[0]) == 1
    assert ours[0][0][0] == theirs[0][0][0]
    for a, b in zip(ours[0][0][1] + ours[0][0][2] + [ours[1]],
                    theirs[0][0][1] + theirs[0][0][2] + [theirs[1]]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_hook_second_order_matches_torch():
    "With create_graph=True the hooked module stays differentiable twice."
    A = np.array([[0.3, -0.7], [1.1, 0.2]])

    def run(lib):
        m = L(lib).Tanh()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
        a = lib.tensor(A, requires_grad=True)
        (g,) = lib.autograd.grad(m(a).pow(2).sum(), a, create_graph=True)
        g.sum().backward()
        return g.detach().numpy(), a.grad.numpy()
    theirs, ours = both(run)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_parameter_dict_mapping_methods_and_get_buffer():
    def run(lib):
        pd = L(lib).ParameterDict({"b": lib.ones(1), "a": lib.ones(2)})
        out = [list(reversed(pd)), list(pd.copy()), pd.copy()["a"] is pd["a"],
               pd.setdefault("c", lib.ones(3)).numel(), pd.setdefault("a").numel(),
               list(pd.fromkeys(["x", "y"], lib.ones(1)))]
        key, value = pd.popitem()
        out += [key, value.numel(), list(pd), pd.get("q") is None, pd.get("a").numel()]
        m = L(lib).BatchNorm1d(2)
        out.append(tuple(m.get_buffer("running_mean").shape))
        for bad in ("weight", "nothing"):
            try:
                m.get_buffer(bad)
            except AttributeError as error:
                out.append(str(error))
        return out
    theirs, ours = both(run)
    assert ours == theirs


def test_backward_hook_returning_a_wrong_number_of_gradients():
    errors = []
    for lib in LIBS:
        m = L(lib).Tanh()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError) as info:
            m(lib.ones(2, requires_grad=True)).sum().backward()
        errors.append(str(info.value))
    assert errors[0] == errors[1]
