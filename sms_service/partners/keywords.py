"""Partner enrollment keywords: one word, unique across the network in every language, and
never a word the service already gives a meaning (STOP, JOIN, PAUSE, an answer word)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.catalogs import LONGEST_KEYWORD
from content.languages import languages
from sms_service.core.audit import Actor
from sms_service.core.models import Partner, PartnerKeyword
from sms_service.core.settings import Settings
from sms_service.partners.errors import PartnerError
from sms_service.texting.answers import fold
from sms_service.texting.keywords import PARTNER_WORD, builtin_meaning

MAX_KEYWORD = len(LONGEST_KEYWORD)


def normal_keyword(raw: str) -> str:
    """A keyword as stored and compared: folded (upper case, no accents), spaces as dashes."""
    return fold(raw).replace(" ", "-")


def keyword_problems(
    session: Session, *, words: Mapping[str, str], partner_id: int | None, settings: Settings
) -> list[str]:
    """Why any of `words` (folded word -> language) cannot be a keyword of this partner."""
    problems: list[str] = []
    known = languages()
    taken = dict(
        session.execute(
            select(PartnerKeyword.word, Partner.name)
            .join(Partner, Partner.id == PartnerKeyword.partner_id)
            .where(PartnerKeyword.word.in_(list(words)))
            .where(PartnerKeyword.partner_id != (partner_id or 0))
        ).all()
    )
    for word, language in words.items():
        if not PARTNER_WORD.match(word):
            problems.append(
                f"the keyword {word!r} must be 3 to {MAX_KEYWORD} letters, digits or dashes, "
                "starting with a letter"
            )
        elif (meaning := builtin_meaning(word, settings)) is not None:
            problems.append(f"{word} is {meaning}: pick another keyword")
        elif word in taken:
            problems.append(f"{word} is already a keyword of {taken[word]}")
        if language not in known:
            problems.append(
                f"the keyword {word}'s language {language!r} is not one of {', '.join(known)}"
            )
    return problems


def change_keywords(
    session: Session,
    *,
    partner: Partner,
    add: Mapping[str, str],
    remove: list[str],
    settings: Settings,
    actor: Actor,
) -> list[str]:
    """Add (word -> language) and remove keywords of `partner`; returns its keywords after.
    Raises PartnerError with every problem, changing nothing, when any word is refused."""
    adding = {normal_keyword(word): language for word, language in add.items()}
    removing = {normal_keyword(word) for word in remove}
    problems = keyword_problems(session, words=adding, partner_id=partner.id, settings=settings)
    own = {keyword.word: keyword for keyword in partner.keywords}
    problems += [f"{word} is not a keyword of {partner.name}" for word in removing - set(own)]
    if problems:
        raise PartnerError(problems)
    for word in removing:
        partner.keywords.remove(own.pop(word))
    for word, language in adding.items():
        if word in own:
            own[word].language = language
        else:
            partner.keywords.append(PartnerKeyword(word=word, language=language))
    session.flush()
    actor.audit(
        session, "partner.keywords", partner, added=sorted(adding), removed=sorted(removing)
    )
    return sorted(keyword.word for keyword in partner.keywords)
