"""Issue 13: the web chat refuses a control character in a typed answer with the reason, and
stores a typed answer without bidi controls (the same rule as Telegram: `dialogs.typed_text`)."""

from __future__ import annotations

from dialogs.flows.exit_survey import EXIT_PARENT
from dialogs.typed_text import CONTROL_REFUSED
from tests.support.chat_factories import ChatWorld
from tests.web.chat_client import ChatApp
from tests.web.test_chat_actions import conversation_state, opened, rendered
from tests.web.test_chat_actions import web as _web
from tests.web.test_chat_actions import world as _world

web = _web
world = _world


async def test_a_typed_answer_with_a_nul_is_refused_and_bidi_controls_are_dropped(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = await opened(web, world.survey_token)
    for _ in range(4):
        await parent.press(rendered("nl", "3 · Neutral"))
    await parent.type("Heel\x00 fijn.")
    assert parent.page is not None
    assert 'data-step="P5"' in parent.page.body  # asked again
    assert rendered("nl", CONTROL_REFUSED) in parent.page.text

    await parent.type("\u202eHeel fijn,\u2066 dank u.\u2069")
    assert 'data-step="summary"' in parent.page.body
    state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert state is not None
    assert state.answers["P5"] == "Heel fijn, dank u."
