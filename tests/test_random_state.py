"Seeds and states of nn's random streams: the default one and nn.Generator's replay what they drew."
import nn


def test_default_stream_state_replays_the_same_numbers():
    nn.manual_seed(3)
    assert nn.initial_seed() == 3
    state = nn.get_rng_state()
    first = nn.randn(4).tolist() + nn.rand(2).tolist()
    nn.set_rng_state(state)
    assert nn.randn(4).tolist() + nn.rand(2).tolist() == first
    assert state.dtype == nn.uint8 and state.ndim == 1


def test_seed_starts_a_fresh_stream_and_reports_its_seed():
    chosen = nn.seed()
    assert nn.initial_seed() == chosen
    drawn = nn.rand(3).tolist()
    nn.manual_seed(chosen)
    assert nn.rand(3).tolist() == drawn


def test_generator_state_replays_and_leaves_the_default_stream_alone():
    nn.manual_seed(0)
    default_next = nn.rand(2).tolist()
    nn.manual_seed(0)
    g = nn.Generator().manual_seed(5)
    state = g.get_state()
    x = nn.rand(3, generator=g).tolist()
    assert g.set_state(state) is g
    assert nn.rand(3, generator=g).tolist() == x
    assert nn.rand(2).tolist() == default_next
    assert g.initial_seed() == 5 and isinstance(g.seed(), int)
