"""The task widgets in a real browser (Debian's Chromium driven by Playwright), each mounted
alone on the harness page (/static/js/widgets/harness.html) with the workspace's key
routing: real keys and mouse moves must give answers the kind itself accepts.

The widgets need no database, so they run against the SQLite server only."""

import base64
import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import expect

from assay.kinds import KINDS, TaskChecker, validate_params

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = {
    example["kind"]: example
    for example in (
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)```", README.read_text(), re.S)
        if '"kind"' in block
    )
}


def png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (210, 120, 90)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


IMAGE = {"image": png_data_url(200, 100), "width": 200, "height": 100}
SILENCE = "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="


class Mounted:
    """One widget on the harness page, with the kind's checker for its answers."""

    def __init__(self, page, kind: str, params: dict, task: dict):
        self.page = page
        self.kind = kind
        self.task = task
        self.checker = TaskChecker(kind, params)

    def value(self):
        return self.page.evaluate("widget.value()")

    def valid(self):
        """The widget's value, after the kind has accepted it."""
        value = self.value()
        assert value is not None
        self.checker.answer(self.checker.task(self.task), value, "answer")
        return value

    def set(self, answer):
        self.page.evaluate("answer => widget.set(answer)", answer)

    def press(self, *keys: str):
        for key in keys:
            self.page.keyboard.press(key)

    def changes(self) -> int:
        return self.page.evaluate("changes.length")


@pytest.fixture
def mount(backend, request, browser):
    """`mount(kind, params, task, value=None)`: a fresh page showing that kind's widget.
    Page errors and console errors fail the test."""
    if backend != "sqlite":
        pytest.skip("widgets run in the browser alone: one server is enough")
    server = request.getfixturevalue("server")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []

    def make(kind: str, params: dict, task: dict, value=None) -> Mounted:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        stored = validate_params(kind, params)
        ctx = {
            "task": {"id": "t-1", "params": task},
            "project": {"id": "p-1", "kind": kind, "params": stored},
            "value": value,
        }
        query = f"widget={KINDS[kind].widget}&ctx={quote(json.dumps(ctx))}"
        page.goto(f"{server.url}/static/js/widgets/harness.html?{query}")
        expect(page.locator("#value")).not_to_be_empty()  # shown once the widget is mounted
        return Mounted(page, kind, stored, task)

    yield make
    context.close()
    assert errors == []


def example(kind: str) -> tuple[dict, dict, dict]:
    """The README's params, task and answer of a kind, its image made a real one."""
    found = EXAMPLES[kind]
    task = dict(found["task"])
    if "image" in task:
        task["image"] = png_data_url(task.get("width", 64), task.get("height", 32))
    return found["params"], task, found["answer"]


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_readme_answer_round_trips_and_is_described(mount, kind):
    params, task, answer = example(kind)
    widget = mount(kind, params, task)
    widget.set(answer)
    assert widget.value() == answer
    assert widget.valid() == answer
    assert widget.changes() == 0  # set() is not the worker's change
    text = widget.page.evaluate("answer => describeAnswer(answer)", answer)
    assert text.strip()
    widget.set(None)
    assert widget.value() != answer
    started = mount(kind, params, task, value=answer)
    assert started.value() == answer


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_control_is_labelled_and_reachable(mount, kind):
    params, task, answer = example(kind)
    widget = mount(kind, params, task, value=answer)
    unnamed = widget.page.evaluate(
        """() => [...document.querySelector('#mount').querySelectorAll(
                'input, select, textarea, button, [tabindex]')]
            .filter((c) => !(c.labels?.length || c.getAttribute('aria-label')
                             || c.textContent.trim()))
            .map((c) => c.outerHTML)"""
    )
    assert unnamed == []
    tab_stops = widget.page.evaluate(
        "() => [...document.querySelectorAll('#mount [tabindex]')].map((c) => c.tabIndex)"
    )
    assert all(index >= 0 for index in tab_stops)


# categorization


def test_labels_digit_picks_a_label(mount):
    widget = mount("categorization", {"labels": ["cat", "dog", "bird"]}, {"text": "Woof"})
    assert widget.value() is None
    widget.press("2")
    assert widget.valid() == {"label": "dog"}
    widget.press("3")
    assert widget.value() == {"label": "bird"}
    widget.press("9", "Shift+1")  # no ninth label; Shift+digit is not a pick
    assert widget.value() == {"label": "bird"}
    assert widget.page.evaluate("changes") == [{"label": "dog"}, {"label": "bird"}]


def test_labels_multi_toggles_labels(mount):
    widget = mount("categorization", {"labels": ["a", "b", "c"], "multi": True}, {"text": "x"})
    widget.press("1", "3")
    assert widget.valid() == {"labels": ["a", "c"]}
    widget.press("1")
    assert widget.value() == {"labels": ["c"]}
    widget.page.get_by_label("b").check()
    assert widget.value() == {"labels": ["b", "c"]}


def test_labels_taxonomy_walks_down_to_a_leaf(mount):
    params, task, _ = example("categorization")
    widget = mount("categorization", params, task)
    widget.press("1")  # animal: an inner label opens, it is no answer
    assert widget.value() is None
    widget.press("2")
    assert widget.valid() == {"label": "dog"}
    widget.press("Backspace", "2", "1")  # up, vehicle, car
    assert widget.valid() == {"label": "car"}
    assert "vehicle › car" in widget.page.text_content(".w-chosen")
    widget.page.get_by_role("button", name="All labels").click()
    widget.page.get_by_role("button", name="animal, open").click()
    widget.page.get_by_role("button", name="cat").click()
    assert widget.value() == {"label": "cat"}


def test_labels_taxonomy_may_answer_inner_labels(mount):
    params = {"taxonomy": {"animal": {"cat": {}}, "plant": {}}, "leaves_only": False}
    widget = mount("categorization", params, {"text": "x"})
    widget.press("1")
    assert widget.valid() == {"label": "animal"}
    widget.press("1")
    assert widget.valid() == {"label": "cat"}


# spans


def char_edge(page, index: int, side: str) -> tuple[float, float]:
    """Screen point just inside the left or right edge of the index-th character (UTF-16
    units) of the text being tagged, label buttons aside."""
    return tuple(
        page.evaluate(
            """([index, side]) => {
              const text = document.querySelector('.w-spans');
              const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
              for (let node; (node = walker.nextNode()); ) {
                if (node.parentElement.closest('[data-tag]')) continue;
                if (index < node.length) {
                  const range = document.createRange();
                  range.setStart(node, index);
                  range.setEnd(node, index + 1);
                  const box = range.getBoundingClientRect();
                  return [side === 'left' ? box.left + 1 : box.right - 1, box.top + box.height / 2];
                }
                index -= node.length;
              }
            }""",
            [index, side],
        )
    )


def select_text(page, first: int, last: int) -> None:
    page.mouse.move(*char_edge(page, first, "left"))
    page.mouse.down()
    page.mouse.move(*char_edge(page, last, "right"), steps=5)
    page.mouse.up()


def test_spans_tag_a_mouse_selection_with_the_chosen_label(mount):
    params, task, answer = example("spans")  # "Ada Lovelace lived in London"
    widget = mount("spans", params, task)
    select_text(widget.page, 0, 11)
    widget.press("2")
    select_text(widget.page, 22, 27)
    assert widget.valid() == {
        "spans": [{"start": 0, "end": 12, "label": "PER"}, {"start": 22, "end": 28, "label": "LOC"}]
    }
    labels = widget.page.locator(".w-spans .w-tag").all_text_contents()
    assert labels == ["PER", "LOC"]  # the label is shown as text, not by colour alone
    select_text(widget.page, 4, 17)  # "Lovelace lived" overlaps Ada Lovelace: refused
    assert len(widget.value()["spans"]) == 2
    assert "overlaps PER" in widget.page.text_content(".w-status")


def test_spans_click_removes_and_keyboard_tags(mount):
    params, task, answer = example("spans")
    widget = mount("spans", params, task, value=answer)
    widget.page.get_by_role("button", name="Remove LOC: London").click()
    assert widget.value() == {"spans": [{"start": 0, "end": 12, "label": "PER"}]}
    widget.page.mouse.click(*char_edge(widget.page, 5, "left"))  # inside "Ada Lovelace"
    assert widget.value() == {"spans": []}
    widget.page.focus(".w-spans")
    widget.press("ArrowRight", "Shift+ArrowRight", "1")  # Ada, + Lovelace, tag PER
    widget.press("ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight")
    widget.press("2")  # London, tagged LOC at once
    assert widget.valid() == answer
    widget.press("ArrowRight", "ArrowLeft", "Space")  # "in", tagged with the label chosen
    assert {"start": 19, "end": 21, "label": "LOC"} in widget.value()["spans"]


def test_spans_offsets_count_code_points(mount):
    text = "😀 Ada in Köln"
    widget = mount("spans", {"labels": ["PER", "LOC"]}, {"text": text})
    widget.page.focus(".w-spans")
    widget.press("ArrowRight", "ArrowRight", "1")
    select_text(widget.page, 10, 13)  # "Köln", after the emoji's two UTF-16 units
    spans = widget.valid()["spans"]
    assert [text[s["start"] : s["end"]] for s in spans] == ["Ada", "Köln"]


# boxes, polygons, points


def screen(widget, x: float, y: float) -> tuple[float, float]:
    """The screen point of image pixel (x, y)."""
    box = widget.page.locator(".w-layer").bounding_box()
    scale = box["width"] / widget.task["width"]
    return box["x"] + x * scale, box["y"] + y * scale


def box(x, y, width, height, label="car") -> dict:
    return {"x": x, "y": y, "width": width, "height": height, "label": label}


def drag(widget, start, end) -> None:
    widget.page.mouse.move(*screen(widget, *start))
    widget.page.mouse.down()
    widget.page.mouse.move(*screen(widget, *end), steps=4)
    widget.page.mouse.up()


def test_boxes_draw_move_resize_and_delete(mount):
    widget = mount("boxes", {"labels": ["car", "person"], "min_size": 4}, IMAGE)
    widget.press("2")
    drag(widget, (20, 10), (120, 60))
    assert widget.valid() == {"boxes": [box(20, 10, 100, 50, "person")]}
    drag(widget, (70, 35), (80, 40))  # inside the selected box: moves it
    assert widget.value() == {"boxes": [box(30, 15, 100, 50, "person")]}
    drag(widget, (130, 65), (150, 80))  # its lower right corner: resizes it
    assert widget.valid()["boxes"][0]["width"] == 120
    assert widget.value()["boxes"][0]["height"] == 65
    drag(widget, (150, 80), (-40, 200))  # dragged past the image: held at its edges
    assert widget.valid() == {"boxes": [box(0, 15, 30, 85, "person")]}
    widget.press("1")  # relabels the selected box
    assert widget.value()["boxes"][0]["label"] == "car"
    drag(widget, (190, 5), (192, 7))  # smaller than min_size: not kept
    assert len(widget.value()["boxes"]) == 1
    assert "Not kept" in widget.page.text_content(".w-status")
    widget.page.get_by_role("button", name="1. car box at 0, 15, 30 × 85 px").click()
    widget.press("Delete")
    assert widget.value() == {"boxes": []}


def test_boxes_keyboard_and_zoom(mount):
    widget = mount("boxes", {"labels": ["car"]}, IMAGE)
    widget.page.focus(".w-layer")
    widget.press("Shift+ArrowRight", "Space", "Shift+ArrowRight", "Shift+ArrowDown", "Space")
    assert widget.valid() == {"boxes": [box(110, 50, 10, 10)]}
    widget.press("ArrowLeft", "Shift+ArrowUp")  # the selected box moves
    assert widget.value() == {"boxes": [box(109, 40, 10, 10)]}
    widget.press("v", "v", "v", "Shift+ArrowRight")  # the third handle (lower right) grows it
    assert widget.value()["boxes"][0]["width"] == 20
    widget.press("Escape", "+", "+")
    assert widget.page.text_content(".w-zoom") == "156%"
    assert widget.page.locator(".w-layer").bounding_box()["width"] == pytest.approx(312.5, abs=1)
    drag(widget, (20, 20), (60, 50))  # still in image pixels when zoomed
    assert widget.value()["boxes"][1] == box(20, 20, 40, 30)
    widget.page.mouse.move(*screen(widget, 100, 50))
    widget.page.mouse.wheel(0, 300)
    expect(widget.page.locator(".w-zoom")).to_have_text("125%")
    assert widget.page.evaluate("pageKeys") == []


def test_polygons_click_corners_then_enter(mount):
    widget = mount("polygons", {"labels": ["roof", "wall"]}, IMAGE)
    for x, y in [(10, 10), (120, 10), (120, 90)]:
        widget.page.mouse.click(*screen(widget, x, y))
    assert widget.value() == {"polygons": []}  # still open
    widget.press("Enter")
    roof = {"points": [[10, 10], [120, 10], [120, 90]], "label": "roof"}
    assert widget.valid() == {"polygons": [roof]}
    assert widget.page.evaluate("pageKeys") == []  # that Enter closed the outline only
    widget.press("2")
    for x, y in [(150, 10), (190, 10)]:
        widget.page.mouse.click(*screen(widget, x, y))
    widget.page.mouse.dblclick(*screen(widget, 170, 60))
    wall = {"points": [[150, 10], [190, 10], [170, 60]], "label": "wall"}
    assert widget.valid()["polygons"][1] == wall
    drag(widget, (190, 10), (195, 5))  # a corner of the selected polygon
    assert widget.value()["polygons"][1]["points"][1] == [195, 5]
    widget.page.mouse.click(*screen(widget, 5, 95))
    widget.press("Escape")  # drops the outline begun
    widget.press("Enter")  # and Enter is the page's again
    assert widget.page.evaluate("pageKeys") == ["Enter"]
    assert len(widget.value()["polygons"]) == 2


def test_points_click_drag_relabel_and_keyboard(mount):
    widget = mount("points", {"labels": ["eye", "nose"]}, IMAGE)
    widget.page.mouse.click(*screen(widget, 50, 40))
    assert widget.valid() == {"points": [{"x": 50, "y": 40, "label": "eye"}]}
    drag(widget, (50, 40), (60, 45))
    widget.press("2")
    assert widget.valid() == {"points": [{"x": 60, "y": 45, "label": "nose"}]}
    widget.press("Escape")
    widget.page.focus(".w-layer")
    widget.press("Shift+ArrowDown", "Space", "ArrowLeft")  # a point at the cross-hair, moved
    assert widget.valid()["points"][1] == {"x": 59, "y": 55, "label": "nose"}
    widget.press("Backspace")
    assert len(widget.value()["points"]) == 1


# comparison, ranking


def test_comparison_by_keyboard(mount):
    params = {"criteria": ["helpfulness"], "strength": True, "allow_tie": True}
    params["require_rationale"] = True
    task = {"prompt": "Egg?", "responses": ["8 minutes.", "Eggs are oval."], "models": ["a", "b"]}
    widget = mount("comparison", params, task)
    assert "a" not in widget.page.locator(".w-side").all_text_contents()[0].split()  # blind
    widget.press("2")
    assert widget.value() is None  # strength and rationale still missing
    widget.press("Shift+3")
    widget.page.get_by_label("Why? (required)").fill("B is off topic.")
    assert widget.valid() == {"preferred": 1, "strength": 3, "rationale": "B is off topic."}
    helpfulness = widget.page.locator("fieldset", has_text="Better on helpfulness")
    helpfulness.get_by_label("Response 1").check()
    assert widget.valid()["criteria"] == {"helpfulness": 0}
    widget.page.locator("body").click(position={"x": 5, "y": 5})  # leave the text box
    widget.press("3")  # a tie has no strength
    tie = {"preferred": "tie", "criteria": {"helpfulness": 0}, "rationale": "B is off topic."}
    assert widget.valid() == tie
    assert widget.page.locator("fieldset", has_text="How much better").evaluate("f => f.disabled")


def test_ranking_moves_the_focused_response_and_drags(mount):
    params, task, _ = example("ranking")
    widget = mount("ranking", params, task)
    assert widget.value() == {"ranking": [0, 1, 2]}
    widget.page.focus(".w-rank-item >> nth=0")
    widget.press("ArrowDown", "ArrowDown")
    assert widget.valid() == {"ranking": [1, 2, 0]}
    focused = widget.page.evaluate("document.activeElement.textContent")
    assert "Response 1" in focused  # the moved response keeps the focus
    widget.press("ArrowUp")
    assert widget.value() == {"ranking": [1, 0, 2]}
    grip = widget.page.locator(".w-grip").nth(2).bounding_box()
    top = widget.page.locator(".w-rank-item").nth(0).bounding_box()
    widget.page.mouse.move(grip["x"] + 5, grip["y"] + 5)
    widget.page.mouse.down()
    widget.page.mouse.move(top["x"] + 20, top["y"] + 5, steps=8)
    widget.page.mouse.up()
    assert widget.valid() == {"ranking": [2, 1, 0]}


# rating, form, chat, response, transcription


def test_rating_fills_scores_and_comments(mount):
    params, task, answer = example("rating")
    params = {**params, "comment_below": 5}
    widget = mount("rating", params, task)
    widget.page.get_by_label("good").check()
    widget.page.get_by_label("tone (from 1 to 10)").fill("4")
    assert widget.value() is None  # 4 is at or below 5: a comment is required
    assert widget.page.locator(".w-required:visible").count() == 1
    widget.page.get_by_label("Comment on tone").fill("a bit curt")
    scores = {"accuracy": "good", "tone": 4}
    assert widget.valid() == {"scores": scores, "comments": {"tone": "a bit curt"}}
    widget.page.get_by_label("tone (from 1 to 10)").fill("11")
    assert widget.value() is None
    assert "give tone from 1 to 10" in widget.page.text_content(".w-todo")


def test_form_fills_every_kind_of_field(mount):
    params = {
        "fields": [
            {"name": "company", "type": "text", "required": True},
            {"name": "staff", "type": "number", "min": 1},
            {"name": "sector", "type": "choice", "options": ["retail", "energy"]},
            {"name": "tags", "type": "choice", "options": ["b2b", "b2c"], "multiple": True},
            {"name": "founded", "type": "date"},
            {"name": "site", "type": "url"},
        ]
    }
    widget = mount("form", params, {"url": "https://example.com/about"})
    assert widget.page.locator("a[href='https://example.com/about']").count() == 1
    assert widget.value() is None
    page = widget.page
    page.get_by_label("company (required)").fill("Example Ltd")
    assert widget.valid() == {"values": {"company": "Example Ltd"}}
    page.get_by_label("staff").fill("12")
    page.get_by_label("sector").select_option("energy")
    page.get_by_label("b2c").check()
    page.get_by_label("founded").fill("1999-04-01")
    page.get_by_label("site").fill("ftp://example.com")
    assert widget.value() is None
    assert "site needs an http(s) address" in page.text_content(".w-todo")
    page.get_by_label("site").fill("https://example.com")
    assert widget.valid() == {
        "values": {
            "company": "Example Ltd",
            "staff": 12,
            "sector": "energy",
            "tags": ["b2c"],
            "founded": "1999-04-01",
            "site": "https://example.com",
        }
    }


def test_chat_add_edit_rate_and_remove_turns(mount):
    params = {"system": "You are a tutor.", "rate_turns": True}
    widget = mount("chat", params, {"topic": "fractions"})
    page = widget.page
    assert "You are a tutor." in page.text_content("#mount")
    page.get_by_role("button", name="Add user turn").click()
    page.keyboard.type("What is 1/2 + 1/4?")  # the new turn has the focus
    page.get_by_role("button", name="Add assistant turn").click()
    page.keyboard.type("3/4.")
    assert widget.value() is None  # the reply is not rated yet
    page.locator("fieldset", has_text="Rating of Assistant turn 2").get_by_label("5").check()
    assert widget.valid() == {
        "messages": [
            {"role": "user", "content": "What is 1/2 + 1/4?"},
            {"role": "assistant", "content": "3/4.", "rating": 5, "source": "human"},
        ]
    }
    page.get_by_role("button", name="Remove Assistant turn 2").click()
    assert widget.value() is None
    assert "end with an assistant reply" in page.text_content(".w-todo")


def test_chat_editing_a_model_reply_marks_it_edited(mount):
    params, task, answer = example("chat")
    widget = mount("chat", params, task, value=answer)
    widget.page.get_by_label("Assistant turn 2 (model)").fill("It is 3/4.")
    reply = widget.valid()["messages"][1]
    assert reply == {"role": "assistant", "content": "It is 3/4.", "rating": 5, "source": "edited"}


def test_response_edits_the_draft_with_a_live_count(mount):
    params = {"mode": "edit", "max_length": 30}
    task = {"prompt": "Explain DNS.", "draft": "DNS is a phone book."}
    widget = mount("response", params, task)
    box = widget.page.get_by_label("Your edit of the draft reply")
    assert box.input_value() == "DNS is a phone book."
    assert widget.page.text_content(".w-count") == "20 characters; at least 1, at most 30"
    box.press("End")
    box.type(" For names, really.")
    assert widget.value() is None
    assert "(too long)" in widget.page.text_content(".w-count")
    box.fill("DNS maps names to addresses.")
    assert widget.valid() == {"text": "DNS maps names to addresses."}
    assert widget.changes() > 0


def test_transcription_shows_the_media_and_takes_text(mount):
    task = {"image": IMAGE["image"], "audio": SILENCE, "lang": "en"}
    widget = mount("transcription", {"min_length": 3}, task)
    assert widget.page.locator("#mount img[alt]").count() == 1
    assert widget.page.locator("#mount audio[controls]").count() == 1
    assert "lang" in widget.page.text_content("#mount dl")
    widget.page.get_by_label("Transcript").fill("hi")
    assert widget.value() is None
    widget.page.get_by_label("Transcript").fill("the quick brown fox")
    assert widget.valid() == {"text": "the quick brown fox"}
