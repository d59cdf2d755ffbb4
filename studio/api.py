from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.quotas import job_creating_throttles
from core.pagination import LimitOffsetPagination
from generation.api import _respond
from jobs.http import idempotency_key
from studio import selectors, services
from studio.serializers import (
    CommentSerializer,
    CommentWriteSerializer,
    ElementSerializer,
    ElementUpdateSerializer,
    ElementWriteSerializer,
    ProjectDetailSerializer,
    ProjectListSerializer,
    ProjectUpdateSerializer,
    ProjectWriteSerializer,
    ReorderSerializer,
    ScriptToShotsSerializer,
    ShotSerializer,
    ShotWriteSerializer,
)

TAGS = ["studio"]


def _detail(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id,
                                             detail=True)
    return ProjectDetailSerializer(project, context={"request": request}).data


class ProjectListApi(APIView):
    @extend_schema(responses={200: ProjectListSerializer(many=True)}, tags=TAGS,
                   summary="Your projects with shot_count and cover (?limit=&offset=)")
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.project_list_for_user(user=request.user),
                                           request, view=self)
        covers = selectors.project_covers(projects=page)
        data = ProjectListSerializer(page, many=True,
                                     context={"request": request, "covers": covers}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=ProjectWriteSerializer, responses={201: ProjectDetailSerializer},
                   tags=TAGS, summary="Create a project")
    def post(self, request):
        data = ProjectWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(owner=request.user, **data.validated_data)
        return Response(_detail(request, project.pk), status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses={200: ProjectDetailSerializer}, tags=TAGS,
                   summary="A project with its shots, elements and generations")
    def get(self, request, project_id: int):
        return Response(_detail(request, project_id))

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectDetailSerializer},
                   tags=TAGS, summary="Update name, description or model")
    def put(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.project_update(project=project, data=data.validated_data)
        return Response(_detail(request, project_id))

    @extend_schema(responses={204: None}, tags=TAGS, summary="Delete a project and its shots")
    def delete(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        services.project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectDuplicateApi(APIView):
    @extend_schema(request=None, responses={201: ProjectDetailSerializer}, tags=TAGS,
                   summary="Duplicate a project with its shots and elements")
    def post(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        copy = services.project_duplicate(project=project)
        return Response(_detail(request, copy.pk), status=status.HTTP_201_CREATED)


class ShotListApi(APIView):
    @extend_schema(request=ShotWriteSerializer, responses={201: ShotSerializer}, tags=TAGS,
                   summary="Add a shot at the end of the project")
    def post(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = ShotWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shot = services.shot_create(project=project, data=data.validated_data)
        return Response(ShotSerializer(shot, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class ShotDetailApi(APIView):
    @extend_schema(request=ShotWriteSerializer, responses={200: ShotSerializer}, tags=TAGS,
                   summary="Update a shot (filename links a video)")
    def put(self, request, project_id: int, shot_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        shot = selectors.shot_get(project=project, shot_id=shot_id)
        data = ShotWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shot = services.shot_update(shot=shot, data=data.validated_data)
        return Response(ShotSerializer(shot, context={"request": request}).data)

    @extend_schema(responses={204: None}, tags=TAGS, summary="Delete a shot")
    def delete(self, request, project_id: int, shot_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        services.shot_delete(shot=selectors.shot_get(project=project, shot_id=shot_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShotReorderApi(APIView):
    @extend_schema(request=ReorderSerializer, responses={200: ShotSerializer(many=True)},
                   tags=TAGS, summary="Reorder shots: `order` must be exactly the project's shots")
    def post(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = ReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shots = services.shots_reorder(project=project, order=data.validated_data["order"])
        return Response(ShotSerializer(shots, many=True, context={"request": request}).data)


class ShotGenerateApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT}, tags=TAGS,
                   summary="Generate the shot with the project's model; linked when done")
    def post(self, request, project_id: int, shot_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        shot = selectors.shot_get(project=project, shot_id=shot_id)
        generation = services.shot_generate(shot=shot,
                                            idempotency_key=idempotency_key(request))
        return _respond(request, generation)


class ElementListApi(APIView):
    @extend_schema(responses={200: ElementSerializer(many=True)}, tags=TAGS,
                   summary="The project's characters, props and locations")
    def get(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        elements = project.elements.select_related("reference_image")
        return Response(ElementSerializer(elements, many=True).data)

    @extend_schema(request=ElementWriteSerializer, responses={201: ElementSerializer},
                   tags=TAGS, summary="Create an element")
    def post(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = ElementWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        element = services.element_create(project=project, data=data.validated_data)
        return Response(ElementSerializer(element).data, status=status.HTTP_201_CREATED)


class ElementDetailApi(APIView):
    @extend_schema(request=ElementUpdateSerializer, responses={200: ElementSerializer},
                   tags=TAGS, summary="Update an element")
    def put(self, request, project_id: int, element_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        element = selectors.element_get(project=project, element_id=element_id)
        data = ElementUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ElementSerializer(services.element_update(
            element=element, data=data.validated_data)).data)

    @extend_schema(responses={204: None}, tags=TAGS, summary="Delete an element")
    def delete(self, request, project_id: int, element_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        selectors.element_get(project=project, element_id=element_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListApi(APIView):
    @extend_schema(responses={200: CommentSerializer(many=True)}, tags=TAGS,
                   summary="The project's comments")
    def get(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        return Response(CommentSerializer(project.comments.select_related("author"),
                                          many=True).data)

    @extend_schema(request=CommentWriteSerializer, responses={201: CommentSerializer},
                   tags=TAGS, summary="Add a comment, optionally on a shot")
    def post(self, request, project_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(project=project, author=request.user,
                                          text=data.validated_data["text"],
                                          shot_id=data.validated_data.get("shot_id"))
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailApi(APIView):
    @extend_schema(responses={204: None}, tags=TAGS, summary="Delete a comment")
    def delete(self, request, project_id: int, comment_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        selectors.comment_get(project=project, comment_id=comment_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScriptToShotsApi(APIView):
    @extend_schema(request=ScriptToShotsSerializer, responses={200: OpenApiTypes.OBJECT},
                   tags=TAGS, summary="Break a script into shot prompts (LLM, or a "
                                      "deterministic split when none is configured)")
    def post(self, request):
        data = ScriptToShotsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.script_to_shots(**data.validated_data))


class ExportSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=["720p", "1080p", "4K"], default="1080p")
    webhook = serializers.URLField(required=False, max_length=2000)


class ProjectExportApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=ExportSerializer, responses={202: OpenApiTypes.OBJECT}, tags=TAGS,
                   summary="Export the project's shots as one video (max(3, 2 x clips) credits)")
    def post(self, request, project_id: int):
        from jobs.http import job_accepted
        from studio.export import project_export

        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        data = ExportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = project_export(project=project, resolution=data.validated_data["resolution"],
                             idempotency_key=idempotency_key(request),
                             webhook=data.validated_data.get("webhook", ""))
        return job_accepted(request, job)
