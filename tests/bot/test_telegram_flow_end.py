"""Issue 11: after a flow ends in Telegram (sent or stopped) the person has their menu again
(feed_update). The flow's last message carries the menu's buttons, so the chat always offers
what to do next without an extra message."""

from __future__ import annotations

from storage.models import Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness, test_a_whole_verwijzing_by_buttons_and_text
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg

tg = _tg
flood_limit = _flood_limit

MENTOR_MENU = [("New referral", "m:flow:verwijzing"), ("My referrals", "m:referrals:")]


async def _start_referral(tg: Harness, mentor: Person) -> None:
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    assert "Question 1 of 13" in tg.api.last(mentor.id).text


async def test_a_sent_flow_ends_with_the_menu(tg: Harness) -> None:
    await test_a_whole_verwijzing_by_buttons_and_text(tg)  # mentor2 (chat 1010) sends one
    done = tg.api.last(1010)
    assert "Your referral has been sent" in done.text
    assert done.buttons() == MENTOR_MENU
    await tg.feed(Person(1010, "en").press(done, done.data_for("My referrals")))
    assert tg.api.last(1010).text.startswith("You sent 1 referral:")


async def test_stop_by_command_ends_with_the_menu(tg: Harness) -> None:
    mentor = Person(1301, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await _start_referral(tg, mentor)
    await tg.feed(mentor.text("/stop"))
    stopped = tg.api.last(mentor.id)
    assert stopped.text == "Stopped. Nothing has been sent."
    assert stopped.buttons() == MENTOR_MENU


async def test_stop_by_button_ends_with_the_menu_and_it_starts_again(tg: Harness) -> None:
    mentor = Person(1302, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await _start_referral(tg, mentor)
    question = tg.api.last(mentor.id)
    await tg.feed(mentor.press(question, question.data_for("Stop")))
    stopped = tg.api.last(mentor.id)
    assert stopped.text == "Stopped. Nothing has been sent."
    assert stopped.buttons() == MENTOR_MENU  # nothing unfinished: no "Continue"
    await tg.feed(mentor.press(stopped, stopped.data_for("New referral")))
    assert "Question 1 of 13" in tg.api.last(mentor.id).text


async def test_a_question_in_the_middle_carries_no_menu(tg: Harness) -> None:
    mentor = Person(1303, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await _start_referral(tg, mentor)
    question = tg.api.last(mentor.id)
    await tg.feed(mentor.press(question, question.data_for("Lieke")))
    assert all(not data.startswith("m:") for _, data in tg.api.last(mentor.id).buttons())
