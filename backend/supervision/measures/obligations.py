"""Statutory obligations per kind of measure (CPL arts. 71 and 77), and the optional ones."""

from __future__ import annotations

STATUTORY = {
    "bail": [
        (
            "stay_in_area",
            "Do not leave the city or county of residence without the executing authority's approval.",
            "未经执行机关批准不得离开所居住的市、县。",
        ),
        (
            "report_changes",
            "Report any change of address, employer or phone number within 24 hours.",
            "住址、工作单位和联系方式发生变动的，在二十四小时以内向执行机关报告。",
        ),
        ("appear_when_summoned", "Appear on time when summoned.", "在传讯的时候及时到案。"),
        (
            "no_witness_interference",
            "Do not interfere with witnesses' testimony in any way.",
            "不得以任何形式干扰证人作证。",
        ),
        (
            "no_evidence_tampering",
            "Do not destroy or forge evidence or collude with others on statements.",
            "不得毁灭、伪造证据或者串供。",
        ),
    ],
    "residential_surveillance": [
        (
            "stay_at_residence",
            "Do not leave the designated residence without the executing authority's approval.",
            "未经执行机关批准不得离开执行监视居住的处所。",
        ),
        (
            "no_meeting_without_approval",
            "Do not meet or communicate with others without approval.",
            "未经执行机关批准不得会见他人或者通信。",
        ),
        ("appear_when_summoned", "Appear on time when summoned.", "在传讯的时候及时到案。"),
        (
            "no_witness_interference",
            "Do not interfere with witnesses' testimony in any way.",
            "不得以任何形式干扰证人作证。",
        ),
        (
            "no_evidence_tampering",
            "Do not destroy or forge evidence or collude with others on statements.",
            "不得毁灭、伪造证据或者串供。",
        ),
        (
            "surrender_documents",
            "Surrender your passport, other travel documents and driving licence.",
            "将护照等出入境证件、身份证件、驾驶证件交执行机关保存。",
        ),
    ],
    "community_correction": [
        (
            "stay_in_area",
            "Do not leave the city or county of residence without approval.",
            "未经批准不得离开所居住的市、县。",
        ),
        ("report_regularly", "Report to the justice bureau as required.", "按照规定向司法所报告。"),
        (
            "report_changes",
            "Report any change of address, employer or phone number within 24 hours.",
            "住址、工作单位和联系方式发生变动的，在二十四小时以内报告。",
        ),
    ],
}

OPTIONAL = {
    "forbidden_place": ("Keep out of: {place}.", "不得进入：{place}。", "place"),
    "no_contact": ("Do not meet or contact: {person}.", "不得会见或者通信：{person}。", "person"),
    "no_activity": ("Do not engage in: {activity}.", "不得从事：{activity}。", "activity"),
    "surrender_documents": ("Surrender: {documents}.", "交执行机关保存：{documents}。", "documents"),
}
