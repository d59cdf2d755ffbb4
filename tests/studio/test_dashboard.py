import pytest

from studio.models import Comment, Element, Project, Shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def test_create_a_project_and_build_it_from_the_editor(logged_in, world):
    r = logged_in.post("/studio/", {"name": "Harbour", "model": "wan-t2v"})
    project = Project.objects.get(owner=world.owner)
    assert r["Location"] == f"/studio/{project.pk}/"
    base = f"/studio/{project.pk}"
    for prompt in ("Storm over the harbour", "Mara lights the lamp"):
        logged_in.post(f"{base}/add-shot/", {"prompt": prompt, "duration": 3,
                                             "shot_type": "wide", "camera_move": "static",
                                             "transition": "cut"})
    logged_in.post(f"{base}/add-element/", {"kind": "character", "name": "Mara",
                                            "description": "keeper"})
    logged_in.post(f"{base}/comment/", {"text": "Nice start"})
    first, second = Shot.objects.filter(project=project).order_by("position")
    logged_in.post(f"{base}/shots/{second.pk}/up/")
    assert list(Shot.objects.filter(project=project).order_by("position")
                .values_list("pk", flat=True)) == [second.pk, first.pk]
    logged_in.post(f"{base}/shots/{first.pk}/update/", {"prompt": "Storm at night",
                                                        "duration": 5, "shot_type": "aerial",
                                                        "camera_move": "orbit",
                                                        "transition": "crossfade"})
    first.refresh_from_db()
    assert (first.prompt, first.duration, first.transition) == ("Storm at night", 5.0,
                                                                 "crossfade")
    logged_in.post(f"{base}/shots/{first.pk}/generate/")
    first.refresh_from_db()
    assert first.generation is not None
    html = logged_in.get(f"{base}/").content.decode()
    assert "Mara lights the lamp" in html and "Nice start" in html and "keeper" in html
    assert Element.objects.count() == 1 and Comment.objects.count() == 1


def test_export_from_the_editor_explains_missing_videos(logged_in, world):
    logged_in.post("/studio/", {"name": "P", "model": "wan-t2v"})
    project = Project.objects.get(owner=world.owner)
    logged_in.post(f"/studio/{project.pk}/add-shot/", {"prompt": "x", "duration": 3,
                                                       "shot_type": "wide",
                                                       "camera_move": "static",
                                                       "transition": "cut"})
    r = logged_in.post(f"/studio/{project.pk}/export/", {"resolution": "720p"}, follow=True)
    assert "Every shot needs a video" in r.content.decode()


def test_someone_elses_project_pages_are_404(client, world):
    project = Project.objects.create(owner=world.other, name="theirs")
    shot = Shot.objects.create(project=project, prompt="x")
    client.login(username="owner", password=PASSWORD)
    assert client.get(f"/studio/{project.pk}/").status_code == 404
    assert client.post(f"/studio/{project.pk}/delete/").status_code == 404
    assert client.post(f"/studio/{project.pk}/shots/{shot.pk}/delete/").status_code == 404
    assert Project.objects.filter(pk=project.pk).exists()


def test_unknown_actions_are_404(logged_in, world):
    project = Project.objects.create(owner=world.owner, name="mine")
    assert logged_in.post(f"/studio/{project.pk}/explode/").status_code == 404


def test_the_editor_links_a_shot_sound_and_the_project_music(logged_in, world, tmp_path):
    from tests.engines.media import make_audio
    from tests.media_tools.conftest import stored

    line = stored(world.owner, make_audio(tmp_path / "line.wav", seconds=1.0), "audio")
    theirs = stored(world.other, make_audio(tmp_path / "theirs.wav", seconds=1.0), "audio")
    project = Project.objects.create(owner=world.owner, name="Voiced")
    shot = Shot.objects.create(project=project, position=0, prompt="Harbour")
    base = f"/studio/{project.pk}"
    fields = {"prompt": "Harbour", "duration": 3, "shot_type": "wide", "camera_move": "static",
              "transition": "cut"}
    logged_in.post(f"{base}/shots/{shot.pk}/update/", {**fields, "audio": line.name,
                                                       "audio_volume": 1.5})
    logged_in.post(f"{base}/update/", {"name": "Voiced", "model": "wan-t2v",
                                       "music": line.name, "music_volume": 0.2})
    shot.refresh_from_db()
    project.refresh_from_db()
    assert (shot.audio_id, shot.audio_volume) == (line.pk, 1.5)
    assert (project.music_id, project.music_volume) == (line.pk, 0.2)
    page = logged_in.get(f"{base}/").content.decode()
    assert f'value="{line.name}"' in page and f"/api/audio/{line.name}" in page
    # Someone else's file is refused and nothing changes.
    r = logged_in.post(f"{base}/shots/{shot.pk}/update/", {**fields, "audio": theirs.name},
                       follow=True)
    assert "not found" in r.content.decode().lower()
    shot.refresh_from_db()
    assert shot.audio_id == line.pk


def test_shots_and_exports_with_a_video_have_an_edit_link(logged_in, world):
    from assets.services import asset_create_from_path
    from engines.ffmpeg import probe
    from jobs.models import Job
    from tests.generation.media import make_mp4

    path = make_mp4(seconds=1.0)
    clip = asset_create_from_path(owner=world.owner, path=path, kind="video", extension="mp4",
                                  origin="output", info=probe(path))
    project = Project.objects.create(owner=world.owner, name="Harbour")
    Shot.objects.create(project=project, prompt="with video", asset=clip, position=0)
    Shot.objects.create(project=project, prompt="without", position=1)
    Job.objects.create(owner=world.owner, kind="project_export", status="completed",
                       params={"project_id": project.pk}, result={"outputs": [clip.name]})
    html = logged_in.get(f"/studio/{project.pk}/").content.decode()
    assert html.count(f'href="/tools/?video={clip.name}" data-testid="edit-video"') == 2
