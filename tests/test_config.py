import dataclasses
import sys
import typing

import pytest

from nnkit.config import ConfigError, dumps, from_dict, load_config, parse_override, parse_recipe_args, save_config

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


@dataclasses.dataclass
class Optim:
    name: typing.Literal["sgd", "adam"] = "adam"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self):
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclasses.dataclass
class Schedule:
    warmup: int = 0


@dataclasses.dataclass
class Train:
    epochs: int = 10
    schedule: Schedule = dataclasses.field(default_factory=Schedule)


@dataclasses.dataclass
class Config:
    name: str
    seed: int = 0
    verbose: bool = False
    hidden: list[int] = dataclasses.field(default_factory=lambda: [64, 32])
    resume: str | None = None
    optim: Optim = dataclasses.field(default_factory=Optim)
    train: Train = dataclasses.field(default_factory=Train)


def write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_a_file_becomes_a_typed_config(tmp_path):
    path = write(tmp_path, 'name = "mlp"\nhidden = [8]\n[optim]\nname = "sgd"\nlr = 1\nbetas = [0.5, 0.6]\n'
                           "[train.schedule]\nwarmup = 2\n")
    config = load_config(Config, path)
    assert config == Config(name="mlp", hidden=[8], optim=Optim("sgd", 1.0, (0.5, 0.6)),
                            train=Train(schedule=Schedule(2)))
    assert type(config.optim.lr) is float  # an integer is accepted where a float is expected
    assert type(config.optim.betas) is tuple


def test_unknown_keys_name_the_key_the_file_and_the_valid_choices(tmp_path):
    path = write(tmp_path, 'name = "x"\nseeed = 1\n')
    with pytest.raises(ConfigError) as info:
        load_config(Config, path)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key seeed (did you mean seed?)" in message
    assert "valid keys at the top level: name, seed, verbose, hidden, resume, optim, train" in message
    with pytest.raises(ConfigError, match=r"unknown key optim.lrr \(did you mean optim.lr\?\); valid keys in "
                                          r"\[optim\]: name, lr, betas"):
        from_dict(Config, {"name": "x", "optim": {"lrr": 0.1}})
    with pytest.raises(ConfigError, match=r"unknown key train.schedule.steps; valid keys in \[train.schedule\]: "
                                          "warmup"):
        from_dict(Config, {"name": "x", "train": {"schedule": {"steps": 3}}})


@pytest.mark.parametrize("data, message", [
    ({"seed": "1"}, 'seed must be an integer, got "1"'),
    ({"seed": True}, "seed must be an integer, got true"),
    ({"seed": 1.5}, "seed must be an integer, got 1.5"),
    ({"verbose": 1}, r"verbose must be a boolean \(true/false\), got 1"),
    ({"hidden": [8, "wide"]}, r'hidden\[1\] must be an integer, got "wide"'),
    ({"hidden": 8}, "hidden must be a list of integers, got 8"),
    ({"optim": {"name": "adamm"}}, 'optim.name must be one of "sgd", "adam", got "adamm"'),
    ({"optim": {"lr": "fast"}}, 'optim.lr must be a number, got "fast"'),
    ({"optim": {"betas": [0.9]}}, r"optim.betas must be a list of 2 values \(a number, a number\), got \[0.9\]"),
    ({"optim": 3}, r"optim must be a \[Optim\] table, got 3"),
    ({"name": {"a": 1}}, "name must be a string, got a table"),
    ({"resume": 3}, "resume must be a string or none, got 3"),
])
def test_wrong_types_name_the_key_and_the_expected_type(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Config, {"name": "x", **data})


def test_missing_required_keys_and_range_checks():
    with pytest.raises(ConfigError, match=r"missing required key name \(a string\)"):
        from_dict(Config, {})
    with pytest.raises(ConfigError, match=r"\[optim\]: lr must be positive, got -1.0"):
        from_dict(Config, {"name": "x", "optim": {"lr": -1}})


def test_bad_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Config, tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="run.toml is not valid TOML"):
        load_config(Config, write(tmp_path, "name = \n"))


@pytest.mark.parametrize("text, path, value", [
    ("seed=3", ["seed"], 3),
    ("optim.lr=1e-2", ["optim", "lr"], 0.01),
    ("verbose=true", ["verbose"], True),
    ("name=my run", ["name"], "my run"),
    ("name='quoted'", ["name"], "quoted"),
    ("name=123", ["name"], "123"),  # a string field keeps the text
    ("optim.name=sgd", ["optim", "name"], "sgd"),
    ("hidden=[128, 64]", ["hidden"], [128, 64]),
    ("resume=none", ["resume"], None),
    ("resume=ckpt.nkpt", ["resume"], "ckpt.nkpt"),
    (" train.schedule.warmup = 5 ", ["train", "schedule", "warmup"], 5),
])
def test_overrides_are_parsed_by_the_field_type(text, path, value):
    assert parse_override(Config, text) == (path, value)


@pytest.mark.parametrize("text, message", [
    ("seed", "expected key=value"),
    ("seeed=1", r"unknown key seeed \(did you mean seed\?\)"),
    ("optim.beta=1", r"unknown key optim.beta .*valid keys in \[optim\]: name, lr, betas"),
    ("optim=1", "optim is a section; set its keys one by one: optim.name, optim.lr, optim.betas"),
    ("seed.x=1", "seed is not a section"),
    ("seed=abc", "--set seed=abc: 'abc' is not an integer"),
])
def test_bad_overrides(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_override(Config, text)


def test_overrides_apply_over_the_file_and_are_validated(tmp_path):
    path = write(tmp_path, 'name = "mlp"\n[optim]\nlr = 0.5\n')
    config = load_config(Config, path, ["optim.lr=0.25", "train.epochs=3", "optim.name=sgd"])
    assert (config.optim.lr, config.optim.name, config.train.epochs) == (0.25, "sgd", 3)
    with pytest.raises(ConfigError, match='optim.name must be one of "sgd", "adam", got "rmsprop"'):
        load_config(Config, path, ["optim.name=rmsprop"])
    with pytest.raises(ConfigError, match="verbose must be a boolean"):
        load_config(Config, path, ["verbose=1"])


def test_resolved_config_round_trips_through_toml(tmp_path):
    config = Config(name='tricky "name"\nwith \\ newline, tab\t, é and \x7f', seed=3, verbose=True, hidden=[],
                    optim=Optim("sgd", 1e-05, (0.1, float("inf"))), train=Train(7, Schedule(1)))
    text = dumps(config, header="resolved\nconfig")
    assert text.startswith("# resolved\n# config\n")
    assert "[optim]" in text and "[train.schedule]" in text and "resume" not in text
    tomllib.loads(text)  # valid TOML
    path = save_config(config, tmp_path / "config.toml")
    assert load_config(Config, path) == config
    config.resume = "runs/x.nkpt"
    assert load_config(Config, save_config(config, tmp_path / "c2.toml")) == config


def test_none_where_the_default_is_not_none_cannot_be_written():
    @dataclasses.dataclass
    class WithDefault:
        path: str | None = "x"

    with pytest.raises(ConfigError, match="path is None but its default is 'x'"):
        dumps(WithDefault(path=None))


def test_recipe_arguments_exit_with_the_message_on_a_bad_config(tmp_path, capsys):
    path = write(tmp_path, 'name = "x"\n')
    config, args = parse_recipe_args(Config, ["--config", str(path), "--set", "seed=4", "--quiet"],
                                     description="test", default_config="none.toml", default_out="out")
    assert config.seed == 4 and args.quiet and args.out == "out" and args.overrides == ["seed=4"]
    with pytest.raises(SystemExit) as info:
        parse_recipe_args(Config, ["--config", str(path), "--set", "optim.name=rms"], description="test",
                          default_config="none.toml", default_out="out")
    assert info.value.code == 2
    assert 'optim.name must be one of "sgd", "adam", got "rms"' in capsys.readouterr().err
