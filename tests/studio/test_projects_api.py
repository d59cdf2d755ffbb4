import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.services import asset_create_from_path
from engines.registry import configure
from generation.models import Generation
from studio.models import Element, Project, Shot
from tests.conftest import assert_error
from tests.fakes.openai_server import FakeOpenAI
from tests.generation.media import make_mp4, make_png

pytestmark = pytest.mark.django_db


def create_project(client, **data):
    r = client.post("/api/projects", {"name": "My Film", **data}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def add_shot(client, project_id, **data):
    r = client.post(f"/api/projects/{project_id}/shots", {"prompt": "A shot", **data},
                    format="json")
    assert r.status_code == 201, r.content
    return r.json()


def test_project_crud(owner_api):
    project = create_project(owner_api, description="A short", model="ltx-t2v")
    assert project["model"] == "ltx-t2v" and project["shots"] == []
    r = owner_api.put(f"/api/projects/{project['id']}", {"name": "Renamed"}, format="json")
    assert r.json()["name"] == "Renamed" and r.json()["description"] == "A short"
    listed = owner_api.get("/api/projects").json()
    assert listed["count"] == 1 and listed["results"][0]["shot_count"] == 0
    assert owner_api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert not Project.objects.exists()


@pytest.mark.parametrize("payload,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"),
    ({"name": "x", "model": "flux"}, "model"), ({"name": "x", "model": "nope"}, "model"),
])
def test_project_validation(owner_api, payload, field):
    assert field in assert_error(owner_api.post("/api/projects", payload, format="json"),
                                 400)["fields"]


def test_shots_are_added_in_order_and_updated(owner_api, world):
    project = create_project(owner_api)
    first = add_shot(owner_api, project["id"], prompt="Wide on a harbour", duration=5,
                     shot_type="wide", camera_move="dolly_in", transition="crossfade")
    second = add_shot(owner_api, project["id"], prompt="Close on a face")
    assert (first["position"], second["position"]) == (0, 1)
    video = asset_create_from_path(owner=world.owner, path=make_mp4(), kind="video",
                                   extension="mp4", origin="output")
    r = owner_api.put(f"/api/projects/{project['id']}/shots/{second['id']}",
                      {"filename": video.name, "notes": "hold longer"}, format="json")
    assert r.status_code == 200 and r.json()["filename"] == video.name
    assert r.json()["video_url"].endswith(f"/api/video/{video.name}")
    detail = owner_api.get(f"/api/projects/{project['id']}").json()
    assert [s["prompt"] for s in detail["shots"]] == ["Wide on a harbour", "Close on a face"]
    cover = owner_api.get("/api/projects").json()["results"][0]
    assert cover["shot_count"] == 2 and cover["cover"].endswith(video.name)


@pytest.mark.parametrize("payload,field", [
    ({"duration": 0}, "duration"), ({"duration": 500}, "duration"),
    ({"shot_type": "sideways"}, "shot_type"), ({"camera_move": "spin"}, "camera_move"),
    ({"transition": "explode"}, "transition"),
])
def test_shot_validation(owner_api, payload, field):
    project = create_project(owner_api)
    assert field in assert_error(owner_api.post(f"/api/projects/{project['id']}/shots",
                                                payload, format="json"), 400)["fields"]


def test_linking_someone_elses_video_is_404(owner_api, world):
    project = create_project(owner_api)
    shot = add_shot(owner_api, project["id"])
    theirs = asset_create_from_path(owner=world.other, path=make_mp4(), kind="video",
                                    extension="mp4", origin="output")
    assert_error(owner_api.put(f"/api/projects/{project['id']}/shots/{shot['id']}",
                               {"filename": theirs.name}, format="json"), 404)


def test_reorder_must_name_exactly_the_projects_shots(owner_api, other_api):
    project = create_project(owner_api)
    ids = [add_shot(owner_api, project["id"], prompt=f"s{i}")["id"] for i in range(3)]
    r = owner_api.post(f"/api/projects/{project['id']}/shots/reorder",
                       {"order": [ids[2], ids[0], ids[1]]}, format="json")
    assert [s["id"] for s in r.json()] == [ids[2], ids[0], ids[1]]
    theirs = create_project(other_api)
    foreign = add_shot(other_api, theirs["id"])["id"]
    for bad in ([ids[0], ids[1]], [ids[0], ids[1], ids[2], ids[2]],
                [ids[0], ids[1], foreign], [ids[0], ids[1], ids[2], foreign]):
        body = assert_error(owner_api.post(f"/api/projects/{project['id']}/shots/reorder",
                                           {"order": bad}, format="json"), 400)
        assert "order" in body["fields"]
    detail = owner_api.get(f"/api/projects/{project['id']}").json()
    assert [s["id"] for s in detail["shots"]] == [ids[2], ids[0], ids[1]]


def test_duplicate_copies_shots_and_elements(owner_api, world):
    project = create_project(owner_api)
    for i in range(2):
        add_shot(owner_api, project["id"], prompt=f"shot {i}")
    owner_api.post(f"/api/projects/{project['id']}/elements",
                   {"name": "Mara", "kind": "character", "description": "red coat"},
                   format="json")
    r = owner_api.post(f"/api/projects/{project['id']}/duplicate")
    assert r.status_code == 201
    copy = r.json()
    assert copy["id"] != project["id"] and copy["name"] == "My Film (copy)"
    assert [s["prompt"] for s in copy["shots"]] == ["shot 0", "shot 1"]
    assert [e["name"] for e in copy["elements"]] == ["Mara"]
    assert Shot.objects.count() == 4 and Element.objects.count() == 2


def test_elements_and_comments(owner_api, world):
    project = create_project(owner_api)
    shot = add_shot(owner_api, project["id"])
    image = asset_create_from_path(owner=world.owner, path=make_png(), kind="image",
                                   extension="png", origin="upload")
    el = owner_api.post(f"/api/projects/{project['id']}/elements",
                        {"name": "Lighthouse", "kind": "location",
                         "reference_image": image.name}, format="json").json()
    assert el["reference_image"] == image.name
    r = owner_api.put(f"/api/projects/{project['id']}/elements/{el['id']}",
                      {"description": "white tower"}, format="json")
    assert r.json()["description"] == "white tower"
    assert len(owner_api.get(f"/api/projects/{project['id']}/elements").json()) == 1
    c = owner_api.post(f"/api/projects/{project['id']}/comments",
                       {"text": "Love this", "shot_id": shot["id"]}, format="json").json()
    assert c["shot_id"] == shot["id"] and c["author"] == "owner"
    assert_error(owner_api.post(f"/api/projects/{project['id']}/comments",
                                {"text": "x", "shot_id": 999999}, format="json"), 400)
    assert owner_api.delete(f"/api/projects/{project['id']}/comments/{c['id']}").status_code == (
        204)
    assert owner_api.delete(f"/api/projects/{project['id']}/elements/{el['id']}").status_code == (
        204)


def test_generate_a_shot_in_place_with_the_projects_model_and_elements(owner_api, world):
    project = create_project(owner_api, model="ltx-t2v")
    owner_api.post(f"/api/projects/{project['id']}/elements",
                   {"name": "Mara", "description": "a climber in a red coat"}, format="json")
    shot = add_shot(owner_api, project["id"], prompt="Mara reaches the summit", duration=2,
                    shot_type="wide", camera_move="crane")
    r = owner_api.post(f"/api/projects/{project['id']}/shots/{shot['id']}/generate")
    assert r.status_code == 202, r.content
    gen = Generation.objects.get(pk=r.json()["generation_id"])
    assert gen.model == "ltx-t2v" and gen.project_id == project["id"]
    assert "a climber in a red coat" in gen.prompt and "wide shot" in gen.prompt
    assert (gen.params["frames"] - 1) % 8 == 0 and gen.params["frames"] == 49
    detail = owner_api.get(f"/api/projects/{project['id']}").json()
    assert detail["shots"][0]["generation_status"] == "queued"
    assert detail["generations"][0]["shot_id"] == shot["id"]


def test_a_shot_without_a_prompt_cannot_be_generated(owner_api):
    project = create_project(owner_api)
    shot = add_shot(owner_api, project["id"], prompt="")
    assert_error(owner_api.post(f"/api/projects/{project['id']}/shots/{shot['id']}/generate"),
                 400)


@pytest.mark.parametrize("method,path", [
    ("get", ""), ("put", ""), ("delete", ""), ("post", "/duplicate"), ("post", "/shots"),
    ("post", "/shots/reorder"), ("get", "/elements"), ("post", "/elements"),
    ("get", "/comments"), ("post", "/comments"),
])
def test_someone_elses_project_is_404(owner_api, other_api, method, path):
    project = create_project(owner_api)
    add_shot(owner_api, project["id"])
    r = getattr(other_api, method)(f"/api/projects/{project['id']}{path}",
                                   {"name": "x", "text": "x", "order": []}, format="json")
    assert_error(r, 404)
    assert Project.objects.get(pk=project["id"]).name == "My Film"


def test_someone_elses_shots_elements_comments_are_404(owner_api, other_api):
    mine = create_project(other_api)
    theirs = create_project(owner_api)
    shot = add_shot(owner_api, theirs["id"])
    for method, path in [("put", f"/shots/{shot['id']}"), ("delete", f"/shots/{shot['id']}"),
                         ("post", f"/shots/{shot['id']}/generate")]:
        assert_error(getattr(other_api, method)(f"/api/projects/{mine['id']}{path}", {},
                                                format="json"), 404)
    assert Shot.objects.filter(pk=shot["id"]).exists()


def test_projects_need_credentials(api):
    assert_error(api.get("/api/projects"), 401)
    assert_error(api.post("/api/studio/script-to-shots", {"script": "x"}, format="json"), 401)


def test_project_list_query_count_is_flat(owner_api, world):
    for i in range(5):
        project = create_project(owner_api, name=f"p{i}")
        add_shot(owner_api, project["id"])
    owner_api.get("/api/projects")
    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get("/api/projects").json()["count"] == 5
    # 4 queries: API key + user, count, page with shot counts, covers.
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_project_detail_query_count_is_flat(owner_api, world):
    project = create_project(owner_api)
    for i in range(6):
        add_shot(owner_api, project["id"], prompt=f"s{i}")
    owner_api.get(f"/api/projects/{project['id']}")
    with CaptureQueriesContext(connection) as queries:
        owner_api.get(f"/api/projects/{project['id']}")
    # 4 queries: API key + user, project, shots with videos and jobs, elements.
    assert len(queries) == 4, [q["sql"] for q in queries]


SCRIPT = """The storm rolls in over the harbour. Boats strain at their moorings.

Inside the lighthouse, Mara lights the lamp. Her hands shake.

At dawn the sea is calm and the boats are all there."""


def test_script_to_shots_splits_deterministically_without_an_llm(owner_api):
    configure(openai={})
    body = owner_api.post("/api/studio/script-to-shots", {"script": SCRIPT},
                          format="json").json()
    assert body["method"] == "split" and body["engine"] is None
    assert [s["prompt"] for s in body["shots"]][:2] == [
        "The storm rolls in over the harbour.", "Boats strain at their moorings."]
    again = owner_api.post("/api/studio/script-to-shots", {"script": SCRIPT},
                           format="json").json()
    assert again == body
    capped = owner_api.post("/api/studio/script-to-shots", {"script": SCRIPT, "max_shots": 2},
                            format="json").json()
    assert len(capped["shots"]) == 2


def test_script_to_shots_uses_the_llm_when_configured(owner_api):
    with FakeOpenAI() as llm:
        llm.chat_json = lambda messages: {"shots": [
            {"prompt": "Storm over a harbour at night", "shot_type": "establishing",
             "camera_move": "crane", "duration": 6},
            {"prompt": "Mara lights the lamp", "shot_type": "nonsense", "duration": "x"}]}
        configure(openai={"base_url": llm.base_url, "api_key": llm.api_key,
                          "chat_model": "gpt-test", "timeout": 5})
        try:
            body = owner_api.post("/api/studio/script-to-shots", {"script": SCRIPT},
                                  format="json").json()
        finally:
            configure(openai={})
    assert body["method"] == "llm" and body["engine"] == "openai_compatible"
    assert body["shots"][0] == {"prompt": "Storm over a harbour at night",
                                "shot_type": "establishing", "camera_move": "crane",
                                "duration": 6.0}
    assert body["shots"][1]["shot_type"] == "medium" and body["shots"][1]["duration"] == 4.0


def test_export_needs_videos_on_every_shot_and_respects_the_plan(owner_api, world):
    from billing.models import Tier
    from billing.services import tier_set
    from jobs.models import Job

    project = create_project(owner_api)
    first = add_shot(owner_api, project["id"])
    second = add_shot(owner_api, project["id"])
    body = assert_error(owner_api.post(f"/api/projects/{project['id']}/export",
                                       {"resolution": "720p"}, format="json"), 400)
    assert body["missing_shots"] == [first["id"], second["id"]]
    for shot in (first, second):
        video = asset_create_from_path(owner=world.owner, path=make_mp4(), kind="video",
                                       extension="mp4", origin="output",
                                       info=type("I", (), {"width": 160, "height": 96,
                                                           "duration": 1.0})())
        owner_api.put(f"/api/projects/{project['id']}/shots/{shot['id']}",
                      {"filename": video.name}, format="json")
    body = assert_error(owner_api.post(f"/api/projects/{project['id']}/export",
                                       {"resolution": "1080p"}, format="json"), 403,
                        "tier_required")
    assert body["required_tier"] == "starter"
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    r = owner_api.post(f"/api/projects/{project['id']}/export", {"resolution": "1080p"},
                       format="json")
    assert r.status_code == 202, r.content
    assert r.json()["cost"] == 4  # max(3, 2 x 2 clips)
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert job.queue == "media" and (job.params["width"], job.params["height"]) == (1920, 1080)
    assert_error(owner_api.post(f"/api/projects/{project['id']}/export", {"resolution": "8K"},
                                format="json"), 400)
