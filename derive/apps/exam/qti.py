"""QTI 2.1: a content package (`qti21.zip`) with one assessmentItem per variant.

Each item is the variant as one question, like the Moodle cloze: the problem and its picture, then
one textEntryInteraction per asked quantity, each with a float responseDeclaration whose
correctResponse is the answer as shown; responseProcessing adds the part's points to SCORE when
`equal` (toleranceMode="absolute", the part's tolerance on both sides) holds. imsmanifest.xml (IMS
Content Packaging 1.1) lists each item as a resource of type imsqti_item_xmlv2p1 with its picture.
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ...spec import Spec
from .diagrams import FOLDER, image_name, png_size
from .draw import Variant
from .moodle import ask_html, image_html, problem_html
from .package import zip_bytes
from .questions import tolerance_plain
from .settings import Settings

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
IMSCP = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMAS = (f"{QTI21} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd")
EXPECTED_LENGTH = 12


def item(spec: Spec, settings: Settings, v: Variant, image: str) -> str:
    """One variant as an assessmentItem (QTI 2.1 XML)."""
    ident = f"variant-{v.number:03d}"
    qs = settings.questions
    declarations, parts, rules = [], [], []
    for i, (q, a) in enumerate(zip(qs, v.answers), start=1):
        rid = f"RESPONSE_{i}"
        tol = tolerance_plain(q.tolerance_at(a))
        declarations.append(
            f'  <responseDeclaration identifier="{rid}" cardinality="single" baseType="float">\n'
            f"    <correctResponse><value>{q.shown(a)}</value></correctResponse>\n"
            "  </responseDeclaration>")
        parts.append(f"      <li>{ask_html(v, q)} ({q.points:g} point{'s' if q.points != 1 else ''}): "
                     f'<textEntryInteraction responseIdentifier="{rid}" expectedLength="{EXPECTED_LENGTH}"/></li>')
        rules.append(
            "    <responseCondition>\n      <responseIf>\n"
            f'        <equal toleranceMode="absolute" tolerance="{tol} {tol}">'
            f'<variable identifier="{rid}"/><correct identifier="{rid}"/></equal>\n'
            '        <setOutcomeValue identifier="SCORE"><sum><variable identifier="SCORE"/>'
            f'<baseValue baseType="float">{q.points:g}</baseValue></sum></setOutcomeValue>\n'
            "      </responseIf>\n    </responseCondition>")
    total = sum(q.points for q in qs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<assessmentItem xmlns="{QTI21}" xmlns:xsi="{XSI}" xsi:schemaLocation="{SCHEMAS}" '
            f'identifier="{ident}" title={quoteattr(f"{settings.lms.name} (variant {v.number:03d})")} '
            'adaptive="false" timeDependent="false">\n'
            + "\n".join(declarations) + "\n"
            '  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">'
            "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>\n"
            '  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
            f"<defaultValue><value>{total:g}</value></defaultValue></outcomeDeclaration>\n"
            "  <itemBody>\n    <div>\n" + problem_html(spec, v, image)
            + f"<p>Give every answer {qs[0].rounding()}, and keep full precision in intermediate steps.</p>\n"
            "    <ol>\n" + "\n".join(parts) + "\n    </ol>\n    </div>\n  </itemBody>\n"
            "  <responseProcessing>\n" + "\n".join(rules) + "\n  </responseProcessing>\n"
            "</assessmentItem>\n")


def manifest(variants: list[Variant], images: dict[int, bytes]) -> str:
    resources = []
    for v in variants:
        ident = f"variant-{v.number:03d}"
        files = f'<file href="items/{ident}.xml"/>'
        if v.number in images:
            files += f'<file href="{FOLDER}/{image_name(v.number)}"/>'
        resources.append(f'    <resource identifier="{ident}" type="imsqti_item_xmlv2p1" '
                         f'href="items/{ident}.xml">{files}</resource>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<manifest identifier="derive-exam" xmlns="{IMSCP}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{IMSCP} http://www.imsglobal.org/xsd/imscp_v1p1.xsd">\n'
            "  <metadata><schema>QTIv2.1 Package</schema><schemaversion>1.0.0</schemaversion></metadata>\n"
            "  <organizations/>\n  <resources>\n" + "\n".join(resources) + "\n  </resources>\n</manifest>\n")


def package(spec: Spec, settings: Settings, variants: list[Variant], images: dict[int, bytes] | None) -> bytes:
    """qti21.zip: the manifest, one item per variant, the pictures (referenced from items/ as ../images/)."""
    images = images or {}
    members: dict[str, str | bytes] = {"imsmanifest.xml": manifest(variants, images)}
    for v in variants:
        png = images.get(v.number)
        image = image_html(f"../{FOLDER}/{image_name(v.number)}", png_size(png), v.number) if png else ""
        members[f"items/variant-{v.number:03d}.xml"] = item(spec, settings, v, image)
        if png:
            members[f"{FOLDER}/{image_name(v.number)}"] = png
    return zip_bytes(members)
