"""ARCHITECTURE §2.9: every setting is declared once, read by code, and proved by a test."""

from __future__ import annotations

import ast
import importlib
import re
from collections import Counter
from pathlib import Path

import pytest

from core.platform import settings_registry as registry
from core.platform.settings_registry import SETTINGS, UnknownSetting

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_FILE = ROOT / "core" / "platform" / "settings_registry.py"
THIS_FILE = Path(__file__).resolve()
READERS = {"get", "get_bool", "get_int", "get_text", "stored", "put"}
# Where the key is a variable, checked at run time instead: the automation save takes only
# names its own check (``policy._clean``) accepts, and every template key is built from
# ``mail.OVERRIDE_KEY``, a declared family.
DYNAMIC = {("core/automation/policy.py", "name"), ("core/catalog/templates.py", "key")}


def _sources(*roots: str, skip: tuple[Path, ...] = ()) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            if path.resolve() not in skip:
                found[path] = path.read_text(encoding="utf-8")
    return found


def _constant_names(sources: dict[Path, str]) -> dict[str, set[str]]:
    """String value → the module-level names bound to it (``AUTO_APPLY_CREDIT = "auto_..."``)."""
    names: dict[str, set[str]] = {}
    for text in sources.values():
        for node in ast.parse(text).body:
            if (
                isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(node.value.value, set()).add(target.id)
    return names


def _mentions(key: str, family: bool, text: str, constants: set[str]) -> bool:
    quoted = (f'"{key}', f"'{key}") if family else (f'"{key}"', f"'{key}'")
    if any(q in text for q in quoted):
        return True
    return any(re.search(rf"\b{re.escape(name)}\b", text) for name in constants)


CORE = _sources("core", skip=(REGISTRY_FILE.resolve(),))
CONSTANTS = _constant_names(CORE)


def test_every_key_is_declared_once():
    counts = Counter(s.key for s in SETTINGS)
    assert [key for key, n in counts.items() if n > 1] == []
    for s in SETTINGS:
        assert s.meaning.strip().endswith((".", ")")), s.key  # one sentence
        assert not s.family or s.key.endswith("."), s.key  # a family is a dotted prefix


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_default_has_the_declared_type(setting):
    assert isinstance(setting.default, setting.type), setting.key
    assert type(setting.default) is not bool or setting.type is bool, setting.key


def test_every_key_is_read_in_core():
    unread = [
        s.key
        for s in SETTINGS
        if not any(
            _mentions(s.key, s.family, text, CONSTANTS.get(s.key, set())) for text in CORE.values()
        )
    ]
    assert unread == []


def test_every_key_is_exercised_by_a_test():
    tests = _sources("tests", skip=(THIS_FILE,))
    untested = [
        s.key
        for s in SETTINGS
        if not any(
            _mentions(s.key, s.family, text, CONSTANTS.get(s.key, set())) for text in tests.values()
        )
    ]
    assert untested == []


MEMBER = "member"  # stands for the part of a family's key only known at run time


def _key_of(node: ast.expr, module: object) -> str | None:
    """The key a call passes, when it can be known without running it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), str):
        return getattr(module, node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = getattr(module, node.value.id, None)
        value = getattr(owner, node.attr, None)
        return value if isinstance(value, str) else None
    if isinstance(node, ast.JoinedStr) and node.values:  # f"{PREFIX}{cycle}": its prefix
        first = node.values[0]
        prefix = _key_of(first.value if isinstance(first, ast.FormattedValue) else first, module)
        return None if prefix is None else prefix + MEMBER
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"  # mail.OVERRIDE_KEY.format(lang=..., name=...)
    ):
        template = _key_of(node.func.value, module)
        return None if template is None else template.split("{", 1)[0] + MEMBER
    return None


def _calls():
    """Every ``settings.<reader>(...)`` call in core/ and ui/ with its module and key node."""
    for path, text in _sources("core", "ui").items():
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in READERS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("settings", "stored")
                and node.args
            ):
                key_node = node.args[1] if node.func.attr == "put" else node.args[0]
                yield rel, key_node


def test_every_call_in_core_and_ui_uses_a_declared_key():
    calls = list(_calls())
    assert len(calls) > 40  # the walk finds the call sites
    unknown, dynamic = [], []
    for rel, key_node in calls:
        module = importlib.import_module(rel.removesuffix(".py").replace("/", "."))
        key = _key_of(key_node, module)
        if key is None:
            if (rel, ast.unparse(key_node)) not in DYNAMIC:
                dynamic.append((rel, ast.unparse(key_node)))
            continue
        try:
            setting = registry.lookup(key)
        except UnknownSetting:
            unknown.append((rel, key))
            continue
        assert setting.family or setting.key == key
    assert unknown == []
    assert dynamic == []


def test_families_take_their_members_and_nothing_else():
    assert registry.lookup("mail.template.es.welcome").key == "mail.template."
    assert registry.lookup("invoice_days_before.annually").key == "invoice_days_before."
    assert registry.lookup("invoice_days_before").key == "invoice_days_before"
    with pytest.raises(UnknownSetting):
        registry.lookup("mail.template.")  # the bare prefix names no template
    with pytest.raises(UnknownSetting):
        registry.lookup("accounts.self_registraton")


def test_defaults_are_fresh_copies():
    types = registry.default("tickets.attachment_types")
    types.append("exe")
    assert "exe" not in registry.default("tickets.attachment_types")


def test_an_undeclared_key_fails_loudly(sqlite_database):
    from core.platform import settings

    with pytest.raises(UnknownSetting):
        settings.get("accounts.self_registraton")
    with pytest.raises(UnknownSetting):
        settings.get_bool("no.such.setting")
    assert settings.get_bool("accounts.self_registration") is False  # the declared default
    assert settings.stored("accounts.self_registration") is None
