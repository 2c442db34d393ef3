"""The mail templates' wording as the owner edits it (``mail.template.<lang>.<name>``).
Split from ``core.catalog`` (which re-exports every public name here) to keep modules near
the house size; behaviour is unchanged.

``core.platform.mail.render`` prefers the owner's wording to the file under
``core/platform/mail_templates``.
An override may only use the variables of the template it replaces, and it is checked by
rendering it in a jinja2 sandbox with sample values before it is stored, so a bad edit is
refused in the settings page instead of breaking a mail later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.platform import mail, settings
from core.platform.config import get_settings
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import LANGUAGES, normalise

TEMPLATE_MAX = 20_000
# Jinja2 comes with mail.owner_templates(), the sandbox the wording is rendered in when
# sent: loaded when a template is read or checked, not by every process importing the
# catalogue (the daily run, through billing).
SAMPLE_VALUES: dict[str, str] = {
    "name": "María Andrade",
    "client_name": "Comercial Andina",
    "new_email": "nuevo@correo.example",
    "old_email": "anterior@correo.example",
    "minutes": "60",
    "number": "F-000123",
    "subject": "Mi sitio web está lento",
    "department": "Soporte técnico",
    "service": "comercialandina.com.ec",
    "priority": "Alta",
    "body": "Gracias por escribirnos.",
    "domain": "comercialandina.com.ec",
    "amount": "$11,50",
    "total": "$11,50",
    "balance": "$11,50",
    "fee": "$1,15",
    "credited": "$2,00",
    "when": "26 nov 2026",
    "due": "5 dic 2026",
    "next_due": "5 dic 2026",
    "effective": "31 dic 2026",
    "days": "3",
    "cycle": "Mensual",
    "plan": "Estándar",
    "from_plan": "Básico",
    "to_plan": "Premium",
    "username": "comercia",
}


@dataclass(frozen=True)
class TemplateView:
    name: str
    language: str
    default: str  # the file's text
    override: str  # the owner's text, "" when none
    variables: tuple[str, ...]

    @property
    def current(self) -> str:
        return self.override or self.default


def template_names() -> list[str]:
    """The mail templates that exist as files, in either language."""
    names = {p.stem for lang in LANGUAGES for p in (mail.TEMPLATES / lang).glob("*.txt")}
    return sorted(names)


def _default_text(name: str, lang: str) -> str:
    if name not in template_names():
        raise NotFound()
    path = mail.TEMPLATES / lang / f"{PurePath(name).name}.txt"
    if not path.exists():
        raise NotFound()
    return path.read_text(encoding="utf-8")


def _variables(text: str) -> set[str]:
    from jinja2 import meta

    return set(meta.find_undeclared_variables(mail.owner_templates().parse(text)))


def _sample(name: str, variables: set[str]) -> dict[str, str]:
    base = get_settings().public_url
    values = {v: SAMPLE_VALUES.get(v, f"[{v}]") for v in variables}
    if "link" in variables:
        values["link"] = f"{base}/?reset=EJEMPLO"
    if "ticket_id" in variables:
        values["ticket_id"] = "42"
    values.pop("public_url", None)
    return values


def template(
    actor: Actor, name: str, language: str, *, session: Session | None = None
) -> TemplateView:
    """A template's file text and the owner's override of it (owner)."""
    require_owner(actor)
    lang = normalise(language)
    default = _default_text(name, lang)
    override = settings.get_text(mail.OVERRIDE_KEY.format(lang=lang, name=name), session=session)
    return TemplateView(name, lang, default, override, tuple(sorted(_variables(default))))


def _check_template(name: str, lang: str, text: str) -> mail.Rendered:
    """Render ``text`` with sample values, refusing unknown variables and bad syntax."""
    from jinja2 import TemplateError

    default = _default_text(name, lang)
    subject, _, body = text.partition("\n")
    if not subject.strip() or not body.strip():
        raise ValidationError("catalog.error_template_shape")
    try:
        used = _variables(text)
    except TemplateError:
        raise ValidationError("catalog.error_template_syntax") from None
    allowed = _variables(default) | {"public_url"}
    unknown = sorted(used - allowed)
    if unknown:
        raise ValidationError("catalog.error_template_variable", names=", ".join(unknown))
    try:
        rendered = (
            mail.owner_templates()
            .from_string(text)
            .render(public_url=get_settings().public_url, **_sample(name, allowed))
        )
    except TemplateError:
        raise ValidationError("catalog.error_template_syntax") from None
    first, _, rest = rendered.partition("\n")
    return mail.Rendered(first.strip(), rest.strip() + "\n")


def preview_template(
    actor: Actor,
    name: str,
    language: str,
    text: str | None = None,
    *,
    session: Session | None = None,
) -> mail.Rendered:
    """The mail as a client would read it, with sample values: ``text`` when given (the
    unsaved draft), else what is in force."""
    require_owner(actor)
    lang = normalise(language)
    if text is None:
        text = template(actor, name, lang, session=session).current
    return _check_template(name, lang, text.replace("\r\n", "\n"))


def save_template(
    actor: Actor, name: str, language: str, text: str, *, session: Session | None = None
) -> None:
    """Store the owner's wording of a template for one language; empty text (or the file's
    own text) goes back to the default."""
    require_owner(actor)
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    clean = (text or "").replace("\r\n", "\n").strip()
    if len(clean) > TEMPLATE_MAX:
        raise ValidationError("catalog.error_text_too_long", n=TEMPLATE_MAX)
    default = _default_text(name, language)
    key = mail.OVERRIDE_KEY.format(lang=language, name=name)
    if not clean or clean == default.strip():
        settings.put(actor, key, None, session=session)
        return
    _check_template(name, language, clean)
    settings.put(actor, key, clean, session=session)
