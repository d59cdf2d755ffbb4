from django import forms

from generation.catalogue import VIDEO_MODELS
from studio.models import Element, Shot


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    model = forms.ChoiceField(choices=[(m.id, f"{m.name} ({m.id})") for m in VIDEO_MODELS],
                              initial="wan-t2v")
    music = forms.CharField(max_length=64, required=False,
                            help_text="One of your audio files (filename), under the whole "
                                      "export; empty for none.")
    music_volume = forms.FloatField(min_value=0, max_value=1, required=False, initial=0.3)


class ShotForm(forms.Form):
    prompt = forms.CharField(max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    duration = forms.FloatField(min_value=0.5, max_value=120, initial=4)
    shot_type = forms.ChoiceField(choices=Shot.ShotType.choices, initial="medium")
    camera_move = forms.ChoiceField(choices=Shot.CameraMove.choices, initial="static")
    transition = forms.ChoiceField(choices=Shot.Transition.choices, initial="cut")
    audio = forms.CharField(max_length=64, required=False,
                            help_text="One of your audio files (filename): the shot's narration "
                                      "line, from its start.")
    audio_volume = forms.FloatField(min_value=0, max_value=2, required=False, initial=1)
    video_start = forms.FloatField(min_value=0, required=False, initial=0,
                                   label="Start in video (s)",
                                   help_text="Where the shot begins in its video.")


class ElementForm(forms.Form):
    kind = forms.ChoiceField(choices=Element.Kind.choices)
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=2000, required=False)


class CommentForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ExportForm(forms.Form):
    resolution = forms.ChoiceField(choices=[("720p", "720p"), ("1080p", "1080p"), ("4K", "4K")])
