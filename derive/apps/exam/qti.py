"""QTI 2.1: a content package (`qti21.zip`): an assessmentTest that gives each candidate one variant.

Each item is the variant as one question, like the Moodle cloze: the problem and its picture, then
one textEntryInteraction per asked quantity, each with a float responseDeclaration whose
correctResponse is the answer as shown; responseProcessing adds the part's points to SCORE when
`equal` (toleranceMode="absolute", the part's tolerance on both sides) holds.

Items alone import as a pool of questions, not as a test a student can take: OpenOLAT, ONYX and
Inspera start from the package's assessmentTest. `test.xml` is that test, in the form OpenOLAT's test
editor and ONYX exports write it: one testPart, one section whose `<selection select="1"/>` draws
one of the variants (each an assessmentItemRef) for each candidate, so every student works on one
network; the test's SCORE is the sum of its items' SCORE (`testVariables`), which with one item
drawn is that variant's points, and MAXSCORE is one variant's total. imsmanifest.xml (IMS Content
Packaging 1.1) lists the test first, as a resource of type imsqti_test_xmlv2p1 depending on every
item, then each item as a resource of type imsqti_item_xmlv2p1 with its picture.
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ...spec import Spec
from .diagrams import FOLDER, image_name, png_size
from .draw import Variant
from .moodle import MLP_HTML, QuestionHtml, image_html
from .package import zip_bytes
from .questions import tolerance_plain
from .settings import Settings

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
IMSCP = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMAS = (f"{QTI21} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd")
EXPECTED_LENGTH = 12
TEST = "test.xml"                  # the assessmentTest, beside imsmanifest.xml


def ident(v: Variant) -> str:
    return f"variant-{v.number:03d}"


def item(spec: Spec, settings: Settings, v: Variant, image: str, texts: QuestionHtml = MLP_HTML) -> str:
    """One variant as an assessmentItem (QTI 2.1 XML)."""
    qs = settings.questions
    declarations, parts, rules = [], [], []
    for i, (q, a) in enumerate(zip(qs, v.answers), start=1):
        rid = f"RESPONSE_{i}"
        tol = tolerance_plain(q.tolerance_at(a))
        declarations.append(
            f'  <responseDeclaration identifier="{rid}" cardinality="single" baseType="float">\n'
            f"    <correctResponse><value>{q.shown(a)}</value></correctResponse>\n"
            "  </responseDeclaration>")
        parts.append(f"      <li>{texts.ask(v, q)} ({q.points:g} point{'s' if q.points != 1 else ''}): "
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
            f'identifier="{ident(v)}" title={quoteattr(f"{settings.lms.name} (variant {v.number:03d})")} '
            'adaptive="false" timeDependent="false">\n'
            + "\n".join(declarations) + "\n"
            '  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">'
            "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>\n"
            '  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
            f"<defaultValue><value>{total:g}</value></defaultValue></outcomeDeclaration>\n"
            "  <itemBody>\n    <div>\n" + texts.problem(spec, v, image)
            + f"<p>Give every answer {qs[0].rounding()}, and keep full precision in intermediate steps.</p>\n"
            "    <ol>\n" + "\n".join(parts) + "\n    </ol>\n    </div>\n  </itemBody>\n"
            "  <responseProcessing>\n" + "\n".join(rules) + "\n  </responseProcessing>\n"
            "</assessmentItem>\n")


def test(settings: Settings, variants: list[Variant]) -> str:
    """The assessmentTest: one section drawing one variant per candidate, SCORE summed over the items."""
    total = sum(q.points for q in settings.questions)
    refs = "\n".join(f'      <assessmentItemRef identifier="{ident(v)}" href="items/{ident(v)}.xml"/>'
                     for v in variants)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<assessmentTest xmlns="{QTI21}" xmlns:xsi="{XSI}" xsi:schemaLocation="{SCHEMAS}" '
            f'identifier="exam" title={quoteattr(settings.lms.name)} toolName="derive">\n'
            '  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">'
            "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>\n"
            '  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
            f"<defaultValue><value>{total:g}</value></defaultValue></outcomeDeclaration>\n"
            '  <testPart identifier="exam-part" navigationMode="nonlinear" submissionMode="individual">\n'
            '    <itemSessionControl maxAttempts="1" showFeedback="false" showSolution="false"/>\n'
            f'    <assessmentSection identifier="variants" title={quoteattr(settings.lms.name)} visible="true">\n'
            '      <selection select="1"/>\n' + refs + "\n"
            "    </assessmentSection>\n  </testPart>\n"
            '  <outcomeProcessing>\n    <setOutcomeValue identifier="SCORE"><sum>'
            '<testVariables variableIdentifier="SCORE"/></sum></setOutcomeValue>\n  </outcomeProcessing>\n'
            "</assessmentTest>\n")


def manifest(variants: list[Variant], images: dict[int, bytes]) -> str:
    depends = "".join(f'<dependency identifierref="{ident(v)}"/>' for v in variants)
    resources = [f'    <resource identifier="exam" type="imsqti_test_xmlv2p1" href="{TEST}">'
                 f'<file href="{TEST}"/>{depends}</resource>']
    for v in variants:
        files = f'<file href="items/{ident(v)}.xml"/>'
        if v.number in images:
            files += f'<file href="{FOLDER}/{image_name(v.number)}"/>'
        resources.append(f'    <resource identifier="{ident(v)}" type="imsqti_item_xmlv2p1" '
                         f'href="items/{ident(v)}.xml">{files}</resource>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<manifest identifier="derive-exam" xmlns="{IMSCP}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{IMSCP} http://www.imsglobal.org/xsd/imscp_v1p1.xsd">\n'
            "  <metadata><schema>QTIv2.1 Package</schema><schemaversion>1.0.0</schemaversion></metadata>\n"
            "  <organizations/>\n  <resources>\n" + "\n".join(resources) + "\n  </resources>\n</manifest>\n")


def package(spec: Spec, settings: Settings, variants: list[Variant], images: dict[int, bytes] | None,
            texts: QuestionHtml = MLP_HTML) -> bytes:
    """qti21.zip: the manifest, the test, one item per variant, the pictures (referenced from items/ as
    ../images/); `texts`: the problem and parts of an MLP (default) or of a module spec."""
    images = images or {}
    members: dict[str, str | bytes] = {"imsmanifest.xml": manifest(variants, images),
                                       TEST: test(settings, variants)}
    for v in variants:
        png = images.get(v.number)
        image = image_html(f"../{FOLDER}/{image_name(v.number)}", png_size(png), v.number,
                           texts.shows) if png else ""
        members[f"items/{ident(v)}.xml"] = item(spec, settings, v, image, texts)
        if png:
            members[f"{FOLDER}/{image_name(v.number)}"] = png
    return zip_bytes(members)
