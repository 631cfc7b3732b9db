"""What the admin chat does with automations: make one from a recipe or a YAML chain, list,
switch on and off, export, delete, statistics, and a test of a send step to oneself.

The conversation rooms may not touch the ORM, so this is their whole door to automations.
Every call takes the shop's id and looks the automation up within that shop only: an id from
another shop is as unknown as one that never existed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from automations import chain_yaml
from automations.chain import Chain, Send
from automations.chain_yaml import ChainRefused
from automations.engine import switch, sync_step_campaigns
from automations.problems import Problem
from automations.recipes import (
    DEFAULTS,
    Gettext,
    Recipe,
    ShopNames,
    Tuning,
    as_json,
    build,
    from_json,
)
from campaigns.preview import Tried, send_test
from campaigns.spec import CampaignSpec
from campaigns.sql import Params, connection, is_postgres
from campaigns.stats import DEFAULT_WINDOW, Attribution, GroupOutcome, window_end
from loyalty.clock import ensure_utc
from loyalty.errors import NotFound
from models import (
    Automation,
    Campaign,
    Card,
    Delivery,
    Enrollment,
    EnrollmentStep,
    Membership,
    Merchant,
)
from models.enums import (
    Channel,
    DeliveryStatus,
    EnrollmentStatus,
    LedgerKind,
    ResumeMode,
    VoucherStatus,
)
from render.chart_data import ChartDay, ChartLabels

if TYPE_CHECKING:
    from channels.base import DeliveryChannel


class AutomationNotFound(NotFound):
    code = "automation_not_found"

    def __init__(self) -> None:
        super().__init__("This automation is unknown or was deleted.")


@dataclass(frozen=True, slots=True)
class AutomationView:
    id: int
    merchant_id: int
    name: str
    recipe: str | None
    enabled: bool
    resume_mode: ResumeMode
    card_name: str | None
    chain: Chain
    # Switched off at some point: switching back on offers to resume or to skip.
    was_on: bool
    # The recipe's settings, for a recipe automation (re-tuned in the chat); None for YAML.
    tuning: Tuning | None = None


def _view(automation: Automation, card_name: str | None) -> AutomationView:
    return AutomationView(
        id=automation.id,
        merchant_id=automation.merchant_id,
        name=automation.name,
        recipe=automation.recipe,
        enabled=automation.enabled,
        resume_mode=ResumeMode(automation.resume_mode),
        card_name=card_name,
        chain=Chain.model_validate(automation.chain),
        was_on=automation.switched_off_at is not None,
        tuning=_tuning_of(automation),
    )


def _tuning_of(automation: Automation) -> Tuning | None:
    try:
        recipe = Recipe(automation.recipe or "")
    except ValueError:
        return None
    return from_json(recipe, automation.tuning)


async def _row(merchant_id: int, automation_id: int) -> Automation:
    found = await Automation.get_or_none(id=automation_id, merchant_id=merchant_id)
    if found is None:
        raise AutomationNotFound()
    return found


async def _card_name(card_id: int | None) -> str | None:
    if card_id is None:
        return None
    card = await Card.get_or_none(id=card_id)
    return card.name if card is not None else None


async def get_automation(merchant_id: int, automation_id: int) -> AutomationView:
    row = await _row(merchant_id, automation_id)
    return _view(row, await _card_name(row.card_id))


async def list_automations(merchant_id: int) -> list[AutomationView]:
    rows = await Automation.filter(merchant_id=merchant_id).order_by("id")
    names = dict(await Card.filter(merchant_id=merchant_id).values_list("id", "name"))
    return [_view(row, names.get(row.card_id) if row.card_id else None) for row in rows]


async def shop_names(merchant_id: int, card_id: int | None = None) -> ShopNames:
    """The names a recipe's texts use: the shop, and the card (its first card by default)."""
    merchant = await Merchant.get(id=merchant_id)
    cards = Card.filter(merchant_id=merchant_id)
    card = await (cards.filter(id=card_id) if card_id else cards.order_by("id")).first()
    if card is None:
        return ShopNames(merchant.name, "", "")
    return ShopNames(merchant.name, card.name, card.reward_text)


async def shop_language(merchant_id: int) -> str:
    return (await Merchant.get(id=merchant_id)).default_language


async def _store(
    merchant_id: int,
    chain: Chain,
    *,
    card_id: int | None,
    recipe: str | None,
    created_by: int | None,
    tuning: Tuning | None = None,
) -> AutomationView:
    row = await Automation.create(
        merchant_id=merchant_id,
        card_id=card_id,
        name=chain.name,
        recipe=recipe,
        tuning=as_json(tuning) if tuning is not None else None,
        chain=chain.model_dump(mode="json", by_alias=True),
        trigger=chain.trigger.kind,
        created_by_id=created_by,
    )
    return _view(row, await _card_name(card_id))


def recipe_chain(recipe: Recipe, names: ShopNames, tuning: Tuning | None, _: Gettext) -> Chain:
    """The chain a recipe makes (for the preview, before anything is stored)."""
    return build(recipe, names, tuning, _)


async def create_from_recipe(
    merchant_id: int,
    recipe: Recipe,
    tuning: Tuning | None,
    _: Gettext,
    *,
    created_by: int | None,
    on: bool = False,
) -> AutomationView:
    """Store the recipe's chain for the shop (all its cards), switched on if ``on``."""
    tuning = tuning or DEFAULTS[recipe]
    chain = build(recipe, await shop_names(merchant_id), tuning, _)
    made = await _store(
        merchant_id, chain, card_id=None, recipe=recipe.value, created_by=created_by,
        tuning=tuning,
    )  # fmt: skip
    return await set_enabled(merchant_id, made.id, True) if on else made


async def retune(
    merchant_id: int, automation_id: int, tuning: Tuning, _: Gettext
) -> AutomationView:
    """Rebuild a recipe automation with new settings, on or off as it was.

    A recipe's step ids do not change with its settings, so people already on their way go on
    from the step they are at, with the new texts and waits from there on; the trigger's new
    settings apply from the next scan.
    """
    row = await _row(merchant_id, automation_id)
    try:
        recipe = Recipe(row.recipe or "")
    except ValueError:
        raise AutomationNotFound() from None
    chain = build(recipe, await shop_names(merchant_id), tuning, _)
    row.name = chain.name
    row.chain = chain.model_dump(mode="json", by_alias=True)
    row.trigger = chain.trigger.kind
    row.tuning = as_json(tuning)
    await row.save(update_fields=["name", "chain", "trigger", "tuning", "updated_at"])
    await sync_step_campaigns(row)
    return _view(row, await _card_name(row.card_id))


async def import_yaml(merchant_id: int, text: str, *, created_by: int | None) -> AutomationView:
    """Store the chain in ``text`` (switched off), or ``ChainRefused`` with each problem's
    line; nothing is stored on refusal. ``card:`` names one of the shop's cards."""
    chain = chain_yaml.load(text)
    card_id = None
    if chain.card is not None:
        card_id = (
            await Card.filter(merchant_id=merchant_id, name=chain.card)
            .first()
            .values_list("id", flat=True)
        )
        if card_id is None:
            line = _line_of_key(text, "card")
            raise ChainRefused([Problem(line, "unknown_card", {"name": chain.card})])
    return await _store(
        merchant_id, chain, card_id=int(str(card_id)) if card_id else None, recipe=None,
        created_by=created_by,
    )  # fmt: skip


def _line_of_key(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 0


def looks_like_chain(text: str) -> bool:
    """Whether a message is meant as a chain: YAML whose top level has a trigger or steps."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return any(line.startswith(("trigger:", "steps:")) for line in lines) and any(
        line.startswith("name:") or line.startswith("trigger:") for line in lines
    )


async def export_yaml(merchant_id: int, automation_id: int) -> tuple[str, str]:
    """(file name, YAML) of the automation, which ``import_yaml`` reads back the same."""
    view = await get_automation(merchant_id, automation_id)
    chain = view.chain
    if view.card_name is not None and chain.card != view.card_name:
        chain = chain.model_copy(update={"card": view.card_name})
    slug = "".join(c if c.isalnum() else "-" for c in view.name.lower()).strip("-")[:40]
    return f"{slug or 'automation'}-{view.id}.yaml", chain_yaml.dump(chain)


async def set_enabled(
    merchant_id: int, automation_id: int, on: bool, *, resume_mode: ResumeMode | None = None
) -> AutomationView:
    """Switch on or off; back on, ``resume_mode`` says whether waits go on where they were
    (resume) or the sends missed meanwhile are skipped (skip)."""
    row = await _row(merchant_id, automation_id)
    if resume_mode is not None and resume_mode != row.resume_mode:
        row.resume_mode = resume_mode
        await row.save(update_fields=["resume_mode"])
    await switch(row, on)
    return _view(row, await _card_name(row.card_id))


async def delete_automation(merchant_id: int, automation_id: int) -> str:
    """Delete it with its enrolments, step campaigns and their delivery rows; its name, for the
    answer.

    The delivery rows have no foreign key that would cascade (see ``Delivery``), so they are
    deleted here, after the enrolments: deleting those waits for a step being fired (the engine
    holds their rows while it writes delivery rows), so the rows it writes are there to delete.
    """
    row = await _row(merchant_id, automation_id)
    async with in_transaction():
        steps = await Campaign.filter(automation_id=row.id).values_list("id", flat=True)
        await Enrollment.filter(automation_id=row.id).delete()
        await Delivery.filter(campaign_id__in=list(steps)).delete()
        await Campaign.filter(id__in=list(steps)).delete()
        await row.delete()
    return row.name


# Statistics -----------------------------------------------------------------------------------


@dataclass
class StepStats:
    id: str
    kind: str
    outcomes: Counter[str] = field(default_factory=Counter)  # sent, waited, yes, no, issued…
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    delivered: int = 0
    failed: int = 0
    opened: int = 0
    clicked: int = 0


@dataclass
class AutomationStats:
    automation_id: int
    name: str
    enrolled: int
    waiting: int
    held_out: int
    finished: int
    steps: list[StepStats]
    reached: GroupOutcome
    holdout: GroupOutcome | None

    @property
    def uplift(self) -> float | None:
        """Percentage points of visit rate the automation added over its holdout group."""
        if self.holdout is None or not self.holdout.people:
            return None
        return (self.reached.visit_rate - self.holdout.visit_rate) * 100


async def automation_stats(merchant_id: int, automation_id: int) -> AutomationStats:
    row = await _row(merchant_id, automation_id)
    chain = Chain.model_validate(row.chain)
    statuses = Counter(
        str(s) for s in await Enrollment.filter(automation_id=row.id).values_list(
            "status", flat=True
        )
    )  # fmt: skip
    steps = {step.id: StepStats(step.id, step.kind) for step in chain.steps}
    logged = await EnrollmentStep.filter(enrollment__automation_id=row.id).values_list(
        "step", "outcome", "reason"
    )
    for step_id, outcome, reason in logged:
        stats = steps.setdefault(str(step_id), StepStats(str(step_id), "?"))
        if outcome == "skipped":
            stats.skipped[str(reason or "")] += 1
        else:
            stats.outcomes[str(outcome)] += 1
    step_campaigns = dict(
        await Campaign.filter(automation_id=row.id).values_list("id", "automation_step")
    )
    deliveries = await Delivery.filter(campaign_id__in=list(step_campaigns)).values(
        "campaign_id", "enrollment_id", "status", "reason", "opened_at", "clicked_at"
    )
    per_person: dict[tuple[str, int], dict[str, bool]] = {}
    for d in deliveries:
        step_id = str(step_campaigns[d["campaign_id"]])
        stats = steps.setdefault(step_id, StepStats(step_id, "send"))
        status = str(d["status"])
        if status == DeliveryStatus.SKIPPED and d["reason"] not in stats.skipped:
            stats.skipped[str(d["reason"])] += 1
        seen = per_person.setdefault((step_id, int(d["enrollment_id"] or 0)), {})
        seen["sent"] = seen.get("sent", False) or status == DeliveryStatus.SENT
        seen["failed"] = seen.get("failed", False) or status == DeliveryStatus.FAILED
        seen["opened"] = seen.get("opened", False) or d["opened_at"] is not None
        seen["clicked"] = seen.get("clicked", False) or d["clicked_at"] is not None
    for (step_id, _enrollment), seen in per_person.items():
        stats = steps[step_id]
        stats.delivered += seen["sent"]
        stats.failed += seen["failed"] and not seen["sent"]
        stats.opened += seen["opened"]
        stats.clicked += seen["clicked"]
    reached = await _outcome(row, held_out=False)
    holdout = await _outcome(row, held_out=True) if chain.holdout else None
    held = statuses[EnrollmentStatus.HELD_OUT.value]
    return AutomationStats(
        automation_id=row.id,
        name=row.name,
        enrolled=sum(statuses.values()),
        waiting=statuses[EnrollmentStatus.WAITING.value],
        held_out=held,
        finished=statuses[EnrollmentStatus.DONE.value] + statuses[EnrollmentStatus.STOPPED.value],
        steps=list(steps.values()),
        reached=reached,
        holdout=holdout,
    )


async def _outcome(row: Automation, *, held_out: bool) -> GroupOutcome:
    """What the people enrolled (in the holdout group or not) did in the attribution window
    after each enrolment: the campaigns' rule (``campaigns.stats``) with the enrolment as the
    start — stamps on the automation's cards (an undone stamp is no visit) and vouchers
    redeemed. A visit inside two overlapping windows of one person counts once."""
    conn = connection()
    p = Params(is_postgres(conn))
    ts = Attribution(p.postgres, "", "", "").timestamp
    group = "=" if held_out else "<>"
    people = (
        "SELECT customer_id, entered_at AS since FROM enrollment "
        f"WHERE automation_id = {p(row.id)} "
        f"AND status {group} {p(EnrollmentStatus.HELD_OUT.value)}"
    )
    if row.card_id is not None:
        member = (
            f"JOIN membership m ON m.customer_id = g.customer_id AND m.card_id = {p(row.card_id)} "
        )
    else:
        member = (
            "JOIN membership m ON m.customer_id = g.customer_id "
            f"JOIN card c ON c.id = m.card_id AND c.merchant_id = {p(row.merchant_id)} "
        )
    until = window_end(p, "g.since", DEFAULT_WINDOW)
    stamps = (
        f"FROM g {member}JOIN stamp_event s ON s.membership_id = m.id "
        f"AND s.kind = {p(LedgerKind.STAMP.value)} AND {ts('s.created_at')} >= {ts('g.since')} "
        f"AND {ts('s.created_at')} < {ts(until)} "
        "AND NOT EXISTS (SELECT 1 FROM stamp_event u WHERE u.reverses_id = s.id)"
    )
    redeemed = (
        f"FROM g {member}JOIN voucher v ON v.membership_id = m.id "
        f"AND v.status = {p(VoucherStatus.REDEEMED.value)} "
        f"AND {ts('v.redeemed_at')} >= {ts('g.since')} AND {ts('v.redeemed_at')} < {ts(until)}"
    )
    sql = (
        f"WITH g AS ({people}) SELECT (SELECT COUNT(DISTINCT customer_id) FROM g) AS people, "
        f"(SELECT COUNT(DISTINCT g.customer_id) {stamps}) AS visitors, "
        f"(SELECT COUNT(DISTINCT s.id) {stamps}) AS visits, "
        f"(SELECT COUNT(DISTINCT v.id) {redeemed}) AS redeemed"
    )
    found = (await conn.execute_query_dict(sql, p.values))[0]
    return GroupOutcome(
        people=int(found["people"] or 0),
        visitors=int(found["visitors"] or 0),
        visits=int(found["visits"] or 0),
        redeemed=int(found["redeemed"] or 0),
    )


@dataclass(frozen=True, slots=True)
class CsvHeadings:
    """The column names, in the reader's language (the chat passes them in)."""

    step: str
    kind: str
    done: str
    delivered: str
    failed: str
    opened: str
    clicked: str
    skipped: str
    reasons: dict[str, str]


def stats_csv(stats: AutomationStats, headings: CsvHeadings) -> bytes:
    """One row per step: what it did, delivered, failed, opened, clicked, skipped by reason."""
    reasons = sorted({r for s in stats.steps for r in s.skipped})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [headings.step, headings.kind, headings.done, headings.delivered, headings.failed,
         headings.opened, headings.clicked]
        + [f"{headings.skipped}: {headings.reasons.get(r, r)}" for r in reasons]
    )  # fmt: skip
    for step in stats.steps:
        writer.writerow(
            [step.id, step.kind, sum(step.outcomes.values()), step.delivered, step.failed,
             step.opened, step.clicked]
            + [step.skipped.get(r, 0) for r in reasons]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode()


async def automation_chart(
    merchant_id: int, automation_id: int, *, title: str, labels: ChartLabels, days: int = 60
) -> bytes:
    """The automation's last ``days`` local days as a chart: people reached per day (bars,
    one per enrolment however many channels) and people whose visit came after they entered
    (the line, on the day of their latest visit)."""
    from render.chart import render_chart  # here: Pillow only where a chart is drawn

    row = await _row(merchant_id, automation_id)
    zone = ZoneInfo((await Merchant.get(id=merchant_id)).timezone)
    today = ensure_utc(None).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    step_campaigns = await Campaign.filter(automation_id=row.id).values_list("id", flat=True)
    sent = await Delivery.filter(
        campaign_id__in=list(step_campaigns), status=DeliveryStatus.SENT, sent_at__isnull=False
    ).values_list("sent_at", "enrollment_id")
    reached: Counter[date] = Counter()
    for day in {(at.astimezone(zone).date(), e) for at, e in sent}:
        reached[day[0]] += 1
    entered: dict[int, datetime] = {}
    for customer_id, at in (
        await Enrollment.filter(automation_id=row.id)
        .exclude(status=EnrollmentStatus.HELD_OUT)
        .values_list("customer_id", "entered_at")
    ):
        entered[customer_id] = min(at, entered.get(customer_id, at))
    members = Membership.filter(customer_id__in=list(entered), last_visit_at__isnull=False)
    if row.card_id is not None:
        members = members.filter(card_id=row.card_id)
    came: Counter[date] = Counter()
    latest: dict[int, datetime] = {}
    for customer_id, visit in await members.values_list("customer_id", "last_visit_at"):
        if visit > entered[customer_id]:
            latest[customer_id] = max(visit, latest.get(customer_id, visit))
    for visit in latest.values():
        came[visit.astimezone(zone).date()] += 1
    series = [
        ChartDay(first + timedelta(days=n), reached[first + timedelta(days=n)],
                 came[first + timedelta(days=n)])
        for n in range(days)
    ]  # fmt: skip
    return render_chart(series, title=title, labels=labels)


# A test to oneself ------------------------------------------------------------------------------


def send_steps(chain: Chain) -> list[tuple[str, Send]]:
    return [(step.id, step.send) for step in chain.steps if step.send is not None]


async def send_test_to_me(
    merchant_id: int,
    send: Send,
    sender: DeliveryChannel,
    *,
    chat_id: int,
    language: str,
) -> Tried:
    """The step's message, composed as customers get it in the chat, sent to ``chat_id``."""
    merchant = await Merchant.get(id=merchant_id)
    card = await Card.filter(merchant_id=merchant_id).order_by("id").first()
    if card is None:
        return Tried(delivered=False, detail="no card")
    spec = CampaignSpec(
        card_id=card.id,
        channels=(Channel.TELEGRAM,),
        message_text=send.text,
        push_text=send.push,
        voucher_title=send.voucher.title if send.voucher else None,
        voucher_validity_days=send.voucher.days if send.voucher else None,
    )
    return await send_test(
        spec, sender, channel=Channel.TELEGRAM, address=str(chat_id),
        merchant_name=merchant.name, language=language,
    )  # fmt: skip
