"""Canvas: a QTI 1.2 package (`canvas.zip`) in the form Canvas's quiz importer ("QTI .zip file") takes.

Canvas has no multi-part numerical question, and a question group draws its questions
independently, so the package holds one quiz per variant: a text-only first item with the problem
and the network's picture, then one numerical item per asked quantity (exact answer or the range
answer ± tolerance, points per part). Assign each quiz to its student (with --students the quiz's
title names the student).

Layout, as Canvas writes it: imsmanifest.xml (IMS Content Packaging 1.1) listing one resource of
type imsqti_xmlv1p2 per quiz, `variant-NNN/variant-NNN.xml` (questestinterop, QTI 1.2 ASI) and the
pictures in web_resources/images/, referenced as $IMS-CC-FILEBASE$/images/NAME.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ...spec import Spec
from .diagrams import FOLDER, image_name, png_size
from .draw import Variant
from .moodle import MLP_HTML, QuestionHtml, image_html
from .package import zip_bytes
from .questions import tolerance_plain
from .settings import Settings

QTI12 = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
IMSCP = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
FILEBASE = "$IMS-CC-FILEBASE$"


def _fields(fields: dict[str, str]) -> str:
    return ("<qtimetadata>" + "".join(
        f"<qtimetadatafield><fieldlabel>{k}</fieldlabel><fieldentry>{escape(v)}</fieldentry></qtimetadatafield>"
        for k, v in fields.items()) + "</qtimetadata>")


def _metadata(fields: dict[str, str]) -> str:
    return f"<itemmetadata>{_fields(fields)}</itemmetadata>"


def _material(text: str) -> str:
    return f'<material><mattext texttype="text/html">{escape(text)}</mattext></material>'


def assessment(spec: Spec, settings: Settings, v: Variant, image: str, student: dict | None,
               texts: QuestionHtml = MLP_HTML) -> str:
    ident = f"variant-{v.number:03d}"
    title = f"{settings.lms.name} (variant {v.number:03d})" + (
        f" for {student['name']} ({student['id']})" if student else "")
    items = [f'<item ident="{ident}-problem" title="The network">'
             + _metadata({"question_type": "text_only_question", "points_possible": "0"})
             + f"<presentation>{_material(texts.problem(spec, v, image))}</presentation></item>"]
    for i, (q, a) in enumerate(zip(settings.questions, v.answers), start=1):
        tol = q.tolerance_at(a)
        low, high = tolerance_plain(a - tol), tolerance_plain(a + tol)
        text = f"<p>{texts.ask(v, q)}. Give the answer {escape(q.rounding())}.</p>"
        items.append(
            f'<item ident="{ident}-q{i:02d}" title={quoteattr(q.name)}>'
            + _metadata({"question_type": "numerical_question", "points_possible": f"{q.points:.1f}"})
            + f"<presentation>{_material(text)}"
            '<response_str ident="response1" rcardinality="Single"><render_fib fibtype="Decimal">'
            '<response_label ident="answer1"/></render_fib></response_str></presentation>'
            '<resprocessing><outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/>'
            '</outcomes><respcondition continue="No"><conditionvar><or>'
            f'<varequal respident="response1">{q.shown(a)}</varequal>'
            f'<and><vargte respident="response1">{low}</vargte><varlte respident="response1">{high}</varlte></and>'
            '</or></conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>'
            "</resprocessing></item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<questestinterop xmlns="{QTI12}">\n'
            f'<assessment ident="{ident}" title={quoteattr(title)}>\n'
            + _fields({"cc_maxattempts": "1"})
            + '\n<section ident="root_section">\n' + "\n".join(items) + "\n</section>\n</assessment>\n"
            "</questestinterop>\n")


def manifest(variants: list[Variant], images: dict[int, bytes]) -> str:
    resources = []
    for v in variants:
        ident = f"variant-{v.number:03d}"
        dep = f'<dependency identifierref="{ident}-image"/>' if v.number in images else ""
        resources.append(f'<resource identifier="{ident}" type="imsqti_xmlv1p2">'
                         f'<file href="{ident}/{ident}.xml"/>{dep}</resource>')
        if v.number in images:
            href = f"web_resources/{FOLDER}/{image_name(v.number)}"
            resources.append(f'<resource identifier="{ident}-image" type="webcontent" href="{href}">'
                             f'<file href="{href}"/></resource>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<manifest identifier="derive-exam" xmlns="{IMSCP}">\n'
            "<metadata><schema>IMS Content</schema><schemaversion>1.1.3</schemaversion></metadata>\n"
            "<organizations/>\n<resources>\n" + "\n".join(resources) + "\n</resources>\n</manifest>\n")


def package(spec: Spec, settings: Settings, variants: list[Variant], images: dict[int, bytes] | None,
            students: list[dict] | None = None, texts: QuestionHtml = MLP_HTML) -> bytes:
    """canvas.zip: the manifest, one quiz per variant, the pictures; `texts`: the problem and parts
    of an MLP (default) or of a module spec."""
    images = images or {}
    members: dict[str, str | bytes] = {"imsmanifest.xml": manifest(variants, images)}
    for n, v in enumerate(variants):
        ident = f"variant-{v.number:03d}"
        png = images.get(v.number)
        image = image_html(f"{FILEBASE}/{FOLDER}/{image_name(v.number)}", png_size(png), v.number,
                           texts.shows) if png else ""
        student = students[n] if students and n < len(students) else None
        members[f"{ident}/{ident}.xml"] = assessment(spec, settings, v, image, student, texts)
        if png:
            members[f"web_resources/{FOLDER}/{image_name(v.number)}"] = png
    return zip_bytes(members)
