"""The contract's "Editing & Tools" and "Audio, Subtitles & TTS" endpoints.

Each POST validates its body, calls one submit service and answers 202 with the job, the way
every job-creating endpoint does (jobs.http)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.selectors import asset_get_for_user
from assets.serving import asset_response
from billing.quotas import job_creating_throttles
from core.pagination import LimitOffsetPagination
from jobs.http import IDEMPOTENCY, idempotency_key, job_accepted
from media_tools import selectors, services
from media_tools import serializers as s

ACCEPTED = inline_serializer("MediaJobAccepted", {
    "job_id": serializers.UUIDField(), "status": serializers.CharField(),
    "queue_position": serializers.IntegerField(allow_null=True),
    "estimated_wait_seconds": serializers.IntegerField(allow_null=True),
    "cost": serializers.IntegerField(), "model": serializers.CharField(),
    "engine": serializers.CharField(), "status_url": serializers.CharField()})
AUDIO_ACCEPTED = inline_serializer("AudioGenerationAccepted", {
    "job_id": serializers.UUIDField(), "generation_id": serializers.IntegerField(),
    "status": serializers.CharField(),
    "queue_position": serializers.IntegerField(allow_null=True),
    "estimated_wait_seconds": serializers.IntegerField(allow_null=True),
    "cost": serializers.IntegerField(), "model": serializers.CharField(),
    "engine": serializers.CharField(), "status_url": serializers.CharField()})


# Every operation by name: (serializer, submit, summary, tag). The dashboard's tool pages are
# built from this, so they validate and submit exactly as the API does.
OPERATIONS: dict[str, tuple] = {}


def job_endpoint(name: str, serializer, submit, *, summary: str, tag: str,
                 multipart: bool = False):
    """An APIView class for one operation: body -> `submit(user, data, key)` -> 202."""
    OPERATIONS[name] = (serializer, submit, summary, tag)
    request_schema = ({"application/json": serializer, "multipart/form-data": serializer}
                      if multipart else serializer)

    class Endpoint(APIView):
        parser_classes = [JSONParser, MultiPartParser, FormParser]
        throttle_classes = job_creating_throttles()

        @extend_schema(request=request_schema, responses={202: ACCEPTED},
                       parameters=[IDEMPOTENCY], tags=[tag], summary=summary,
                       operation_id=name)
        def post(self, request):
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            job = submit(user=request.user, data=data.validated_data,
                         idempotency_key=idempotency_key(request))
            return job_accepted(request, job)

    Endpoint.__name__ = Endpoint.__qualname__ = "".join(
        part.capitalize() for part in name.split("_")) + "Api"
    return Endpoint


EDIT, TOOLS, AUDIO, SUBS = "editing", "tools", "audio", "subtitles"

TrimApi = job_endpoint("edit_trim", s.TrimSerializer, services.edit_trim_submit, tag=EDIT,
                       summary="Trim to [start_seconds, end_seconds) (3 credits); stream copy "
                               "from 0, frame-accurate re-encode otherwise")
SpeedApi = job_endpoint("edit_speed", s.SpeedSerializer, services.edit_speed_submit, tag=EDIT,
                        summary="Change playback speed 0.25-4x, sound kept in sync (3 credits)")
CropApi = job_endpoint("edit_crop", s.CropSerializer, services.edit_crop_submit, tag=EDIT,
                       summary="Crop a region inside the frame (3 credits)")
ResizeApi = job_endpoint("edit_resize", s.ResizeSerializer, services.edit_resize_submit,
                         tag=EDIT, summary="Resize to a preset (1080p, 720p) or width x height, "
                                           "padded to keep the aspect (3 credits)")
TextOverlayApi = job_endpoint("edit_text_overlay", s.TextOverlaySerializer,
                              services.edit_text_overlay_submit, tag=EDIT,
                              summary="Burn a text overlay, any Unicode, shown literally "
                                      "(3 credits)")
MergeApi = job_endpoint("edit_merge", s.MergeSerializer, services.edit_merge_submit, tag=EDIT,
                        summary="Join 2-20 videos of any size, rate, with or without sound "
                                "(max(3, 2 x clips) credits)")

ExtractFramesApi = job_endpoint("tool_extract_frames", s.ExtractFramesSerializer,
                                services.tool_extract_frames_submit, tag=TOOLS,
                                summary="Extract the first, middle or last frame, or one per "
                                        "second as a zip (1 credit)")
ToolTrimApi = job_endpoint("tool_trim_video", s.ToolTrimSerializer, services.tool_trim_submit,
                           tag=TOOLS, summary="Simple trim by start_time, end_time (1 credit)")
GifApi = job_endpoint("tool_video_to_gif", s.GifSerializer,
                      services.tool_video_to_gif_submit, tag=TOOLS,
                      summary="Animated GIF with a palette made for the clip (1 credit)")
WatermarkApi = job_endpoint("tool_add_watermark", s.WatermarkSerializer,
                            services.tool_add_watermark_submit, tag=TOOLS, multipart=True,
                            summary="Add a text or image watermark (1 credit)")
UpscaleApi = job_endpoint("tool_upscale_video", s.UpscaleSerializer,
                          services.tool_upscale_submit, tag=TOOLS,
                          summary="Upscale 2-4x (Creator+; ~2 credits per 10 s): AI on "
                                  "ComfyUI, else an ffmpeg lanczos scale named in the result")
RemoveBackgroundApi = job_endpoint("tool_remove_background", s.RemoveBackgroundSerializer,
                                   services.tool_remove_background_submit, tag=TOOLS,
                                   multipart=True,
                                   summary="Remove an image's background (ComfyUI; 1 credit)")
FaceSwapApi = job_endpoint("tool_face_swap", s.FaceSwapSerializer,
                           services.tool_face_swap_submit, tag=TOOLS, multipart=True,
                           summary="Swap the face of source_image into target_image (Pro+; "
                                   "ComfyUI; 1 credit)")

TtsGenerateApi = job_endpoint("tts_generate", s.TtsSerializer, services.tts_generate_submit,
                              tag=AUDIO, summary="Speech from text (Creator+; 6 credits per "
                                                 "minute of estimated speech, pro-rated)")
TtsToVideoApi = job_endpoint("tts_add_to_video", s.TtsToVideoSerializer,
                             services.tts_add_to_video_submit, tag=AUDIO,
                             summary="Lay speech over a video from offset_seconds; its own "
                                     "sound is ducked (3 credits)")
AddAudioApi = job_endpoint("video_add_audio", s.AddAudioSerializer,
                           services.video_add_audio_submit, tag=AUDIO,
                           summary="Mix or replace a video's sound with a track, looped or cut "
                                   "to the video (3 credits)")
SubtitlesGenerateApi = job_endpoint("subtitles_generate", s.SubtitlesGenerateSerializer,
                                    services.subtitles_generate_submit, tag=SUBS,
                                    summary="Subtitles from the video's speech (transcription "
                                            "engine; 5 credits)")
SubtitlesBurnApi = job_endpoint("subtitles_burn", s.SubtitlesBurnSerializer,
                                services.subtitles_burn_submit, tag=SUBS,
                                summary="Burn subtitles into a video: default, bold-yellow or "
                                        "minimal (3 credits)")
SubtitlesTranslateApi = job_endpoint("subtitles_translate", s.SubtitlesTranslateSerializer,
                                     services.subtitles_translate_submit, tag=SUBS,
                                     summary="Translate subtitles, timings kept (Pro+; "
                                             "5 credits)")


class GenerateAudioApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=s.GenerateAudioSerializer, responses={202: AUDIO_ACCEPTED},
                   parameters=[IDEMPOTENCY], tags=[AUDIO],
                   summary="Music or sound effects from a description (8 credits per 30 s)")
    def post(self, request):
        data = s.GenerateAudioSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        generation = services.audio_generate_submit(user=request.user,
                                                    data=data.validated_data,
                                                    idempotency_key=idempotency_key(request))
        return job_accepted(request, generation.job, generation_id=generation.pk)


@extend_schema(tags=[AUDIO], summary="Your audio generations, newest first")
class AudioGenerationListApi(ListAPIView):
    serializer_class = s.AudioGenerationSerializer
    pagination_class = LimitOffsetPagination

    def get_queryset(self):
        return selectors.audio_generation_list_for_user(user=self.request.user)


class AudioGenerationDetailApi(APIView):
    @extend_schema(responses={204: None}, tags=[AUDIO],
                   summary="Delete an audio generation and its file (a running job is "
                           "canceled and refunded)")
    def delete(self, request, generation_id: int):
        generation = selectors.audio_generation_get_for_user(user=request.user,
                                                             generation_id=generation_id)
        services.audio_generation_delete(generation=generation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TtsVoicesApi(APIView):
    @extend_schema(responses={200: inline_serializer("TtsVoices", {
        "voices": s.VoiceSerializer(many=True)})}, tags=[AUDIO],
        summary="The voices: espeak-ng's four, plus the speech engine's when configured")
    def get(self, request):
        return Response({"voices": selectors.tts_voices()})


class SubtitleDownloadApi(APIView):
    @extend_schema(responses={(200, "application/x-subrip"): str}, tags=[SUBS],
                   operation_id="subtitles_download", summary="Download a subtitle file")
    def get(self, request, name: str):
        asset = asset_get_for_user(user=request.user, name=f"{name}.srt", kinds=("subtitle",))
        return asset_response(request, asset, download=True)
