"""The benchmark's data sets are generated once and reused, but made again when the generator changed."""
from bench import run


def test_a_data_set_is_reused_until_the_generator_changes(tmp_path, monkeypatch):
    made = []

    def make(out):
        made.append(out)
        out.mkdir(parents=True)
        (out / "messages.csv").write_text(f"made {len(made)}\n")

    out = tmp_path / "m100"
    monkeypatch.setattr(run, "generator_digest", lambda: "v1")
    assert run.cached(out, make) == out and len(made) == 1
    run.cached(out, make)
    assert len(made) == 1 and (out / "messages.csv").read_text() == "made 1\n"
    monkeypatch.setattr(run, "generator_digest", lambda: "v2")
    run.cached(out, make)
    assert len(made) == 2 and (out / "messages.csv").read_text() == "made 2\n"


def test_a_data_set_marked_complete_before_digests_is_made_again(tmp_path):
    out = tmp_path / "m100"
    out.mkdir()
    (out / ".complete").touch()  # how bench/run.py marked a finished data set before
    made = []
    run.cached(out, lambda o: (made.append(o), o.mkdir()))
    assert made == [out] and (out / ".complete").read_text() == run.generator_digest()
