"""Issue 12, finding 8: no second mail recipient hidden in a contact, and no complaint code
kept in the outbox once its notice is sent."""

from __future__ import annotations

import pytest

from core.complaints.tickets import route_contact
from core.notices.models import OutboxMessage
from notifications.base import DeliveryError
from notifications.mail import EmailChannel
from notifications.outbox import deliver
from tests.notifications.test_outbox import CONFIG, Recorder, add_message, row


@pytest.mark.parametrize("contact,route", [
    ("x@y.z,admin", None), ("a@b.cn, c@d.cn", None), ("a@b.cn;c@d.cn", None),
    ("王 <a@b.cn>", None),
    ("zhang.wei+ts@example.com.cn", ("email", "zhang.wei+ts@example.com.cn")),
    ("138 0000 0000", ("webhook", "13800000000")),
])
def test_a_contact_is_exactly_one_address(contact, route):
    """One address or number, never a list: the notice (with its code) has one recipient."""
    assert route_contact(contact) == route


def test_the_mail_channel_refuses_a_list():
    """A stored recipient that is not exactly one address is a permanent failure."""
    channel = EmailChannel("smtp://127.0.0.1:25", "qc@example.com")
    message = OutboxMessage(id=1, idempotency_key="k", recipient="a@b.cn, admin@b.cn",
                            subject="s", body="b", payload={}, channel="email")
    with pytest.raises(DeliveryError) as caught:
        channel.build(message)
    assert not caught.value.retryable


def test_the_code_leaves_the_outbox_once_sent(container):
    """The complaint code is in the message only until the channel took it."""
    outbox_id = add_message(container, body="您的查询码：ABCDEFGHJK",
                            payload={"masked_body": "您的查询码：**********"})
    channel = Recorder()
    assert deliver(container, outbox_id, {"webhook": channel}, config=CONFIG).status == "sent"
    stored = row(container, outbox_id)
    assert "ABCDEFGHJK" not in stored.body and "masked_body" not in stored.payload
