"""Issue 27 in the console: the files the experts shared stay with the answer, linked."""

from __future__ import annotations

from workflows.commands import Reply, Resolve
from workflows.model import Attachment, Status

from .conftest import ADA, ADMIN, SAM, Console

LOG = Attachment(name="crash.log", url="https://acme.slack.com/files/U0ADA/F0CRASHLOG/crash.log")
IMAGE = Attachment(name="image 1")


async def test_the_answer_and_the_knowledge_base_show_its_files(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "Why is the signing keystore locked?")
    service = web.runtime.service
    reply = Reply(id="r1", escalation_id=esc.id, actor=ADA, text="See the trace.", attachments=(LOG, IMAGE))
    await service.handle(reply)
    await service.handle(Resolve(id="r2", escalation_id=esc.id, actor=ADA, answer="Unlock it before signing."))
    assert (await web.reload(esc)).status == Status.resolved
    await web.sign_in(ADMIN)
    link = f'<a href="{LOG.url}" rel="noopener noreferrer" target="_blank">crash.log</a>'
    page = await web.page(f"/console/escalations/{esc.id}")
    assert f"Files from the experts: {link} · image 1" in page
    found = await web.page("/console/knowledge?q=keystore+signing")
    assert "Unlock it before signing." in found and f"With 2 files: {link} · image 1" in found
