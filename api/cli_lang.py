"""The operator's language on the command line: core refusals carry Chinese (``zh``) and
English; a CLI prints Chinese unless ``--lang en`` or QC_LANG=en asks for English."""

from __future__ import annotations

import os

import click

from core.kernel.errors import DomainError

LANGS = ("zh", "en")


def cli_lang(asked: str | None = None) -> str:
    """``--lang`` when given, else QC_LANG (en…: English), else Chinese."""
    if asked:
        return "en" if asked.lower().startswith("en") else "zh"
    return "en" if os.environ.get("QC_LANG", "zh").lower().startswith("en") else "zh"


def refused(exc: DomainError, lang: str | None = None) -> click.ClickException:
    """The core's refusal in the operator's language."""
    return click.ClickException(exc.text(cli_lang(lang)))


lang_option = click.option(
    "--lang", type=click.Choice(LANGS), default=None,
    help="Language of messages: zh (default) or en; QC_LANG=en sets English too.")
