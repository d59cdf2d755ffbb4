from django.urls import path, re_path

from media_tools import api

api_urlpatterns = [
    path("edit/trim", api.TrimApi.as_view(), name="api-edit-trim"),
    path("edit/speed", api.SpeedApi.as_view(), name="api-edit-speed"),
    path("edit/crop", api.CropApi.as_view(), name="api-edit-crop"),
    path("edit/resize", api.ResizeApi.as_view(), name="api-edit-resize"),
    path("edit/text-overlay", api.TextOverlayApi.as_view(), name="api-edit-text-overlay"),
    path("edit/merge", api.MergeApi.as_view(), name="api-edit-merge"),
    path("tools/extract-frames", api.ExtractFramesApi.as_view(), name="api-extract-frames"),
    path("tools/trim-video", api.ToolTrimApi.as_view(), name="api-trim-video"),
    path("tools/video-to-gif", api.GifApi.as_view(), name="api-video-to-gif"),
    path("tools/add-watermark", api.WatermarkApi.as_view(), name="api-add-watermark"),
    path("tools/upscale-video", api.UpscaleApi.as_view(), name="api-upscale-video"),
    path("tools/remove-background", api.RemoveBackgroundApi.as_view(),
         name="api-remove-background"),
    path("tools/face-swap", api.FaceSwapApi.as_view(), name="api-face-swap"),
    path("tts/voices", api.TtsVoicesApi.as_view(), name="api-tts-voices"),
    path("tts/generate", api.TtsGenerateApi.as_view(), name="api-tts-generate"),
    path("tts/add-to-video", api.TtsToVideoApi.as_view(), name="api-tts-add-to-video"),
    # Before generation's `video/<filename>` download route, which would shadow it.
    path("video/add-audio", api.AddAudioApi.as_view(), name="api-video-add-audio"),
    path("generate-audio", api.GenerateAudioApi.as_view(), name="api-generate-audio"),
    path("audio-generations", api.AudioGenerationListApi.as_view(),
         name="api-audio-generations"),
    path("audio-generations/<int:generation_id>", api.AudioGenerationDetailApi.as_view(),
         name="api-audio-generation"),
    path("subtitles/generate", api.SubtitlesGenerateApi.as_view(),
         name="api-subtitles-generate"),
    path("subtitles/burn", api.SubtitlesBurnApi.as_view(), name="api-subtitles-burn"),
    path("subtitles/translate", api.SubtitlesTranslateApi.as_view(),
         name="api-subtitles-translate"),
    re_path(r"^subtitles/(?P<name>[A-Za-z0-9_-]{1,60})\.srt$", api.SubtitleDownloadApi.as_view(),
            name="api-subtitle-download"),
]
