from django import forms

from generation.catalogue import IMAGE_MODELS, VIDEO_MODELS


def _choices(models):
    return [(m.id, f"{m.name} · {m.task}") for m in models]


class GenerateVideoForm(forms.Form):
    model = forms.ChoiceField(choices=_choices(VIDEO_MODELS), initial="wan-t2v")
    prompt = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    negative_prompt = forms.CharField(max_length=2000, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    width = forms.IntegerField(required=False, min_value=64, max_value=4096)
    height = forms.IntegerField(required=False, min_value=64, max_value=4096)
    frames = forms.IntegerField(required=False, min_value=1, max_value=999)
    steps = forms.IntegerField(required=False, min_value=1, max_value=150)
    frame_rate = forms.IntegerField(required=False, min_value=1, max_value=60)
    seed = forms.IntegerField(required=False, min_value=-1, initial=-1)
    image = forms.FileField(required=False, help_text="For image-to-video, first-last frame, "
                                                       "sound-to-video and portrait models.")
    last_image = forms.FileField(required=False, help_text="The last frame (first-last models).")
    audio = forms.FileField(required=False, help_text="For sound-to-video models.")
    video = forms.FileField(required=False, help_text="For video-to-video models.")


class GenerateImageForm(forms.Form):
    model = forms.ChoiceField(choices=_choices(IMAGE_MODELS), initial="flux")
    prompt = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    negative_prompt = forms.CharField(max_length=2000, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    width = forms.IntegerField(required=False, min_value=64, max_value=4096)
    height = forms.IntegerField(required=False, min_value=64, max_value=4096)
    num_images = forms.IntegerField(min_value=1, max_value=4, initial=1)
    seed = forms.IntegerField(required=False, min_value=-1, initial=-1)
    image = forms.FileField(required=False, help_text="For image editing (flux-edit).")
