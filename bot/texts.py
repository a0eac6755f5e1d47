"""What the bot says: Simplified Chinese by default, English with /lang en.

Short sentences, the terms of the regulation (立案审批表, 询问笔录, 送达回证, 留置送达).
"""

from __future__ import annotations

from core.kernel import texts

LANGS = ("zh", "en")

T: dict[str, tuple[str, str]] = {
    # binding and menus
    "welcome_officer": (
        "{name}，您好。您已绑定执法账号（{roles}）。\n{menu}",
        "Hello {name}. Your Telegram account is bound ({roles}).\n{menu}"),
    "welcome_public": (
        "您好，这里是执法全过程记录系统。\n/complain 投诉举报\n/status 查询办理进度\n"
        "/confirm 确认联系方式\n执法人员："
        "请发送 /bind 绑定码 完成绑定。",
        "Hello. This is the enforcement record system.\n/complain file a complaint\n/status "
        "check progress\n/confirm confirm your contact\nOfficers: send /bind CODE to bind "
        "your account."),
    "officer_menu": (
        "/new 新建案件\n/cases 我的案件\n/record 填写文书\n/sign 签名\n/refuse 拒签或拒绝调查\n"
        "/serve 送达\n/interrupt 音像中断 /resume 恢复\n/checklist 还缺什么\n/stage 进入下一阶"
        "段\n/tasks 我的期限\n直接发送文件＝上传证据\n/lang 语言\n/unbind 解除绑定\n"
        "/cancel 取消当前操作",
        "/new open a case\n/cases my cases\n/record fill in a record\n/sign "
        "signatures\n/refuse a refusal\n/serve serve a document\n/interrupt AV stopped /resume "
        "resumed\n/checklist what is missing\n/stage move to the next stage\n/tasks my "
        "deadlines\nsend a file = upload evidence\n/lang language\n/unbind unbind this "
        "account\n/cancel stop the current step"),
    "staff_menu": (
        "待审批的文书会直接发到这里，点 ✅ 同意或 ↩ 退回。\n/intake 待核查的群众投诉\n"
        "/cases 本部门案件\n/checklist 还缺什么"
        "\n/tasks 期限\n/lang 语言\n/unbind 解除绑定\n/cancel 取消当前操作",
        "Records waiting for your approval come here: tap ✅ to approve or ↩ to return.\n"
        "/intake public complaints to check\n/cases department cases\n/checklist what is "
        "missing\n/tasks deadlines\n/lang "
        "language\n/unbind unbind this account\n/cancel stop the current step"),
    "bind_usage": (
        "请发送：/bind 绑定码（形如 XXXX-XXXX-XXXX-XXXX，由管理员生成，15分钟内有效）。",
        "Send: /bind CODE (like XXXX-XXXX-XXXX-XXXX, from your administrator, valid 15 min)."),
    "unbind_ask": (
        "确定解除此 Telegram 账号与执法人员 {name} 的绑定吗？解除后，须向管理员申请新的绑定码才能"
        "再次绑定。",
        "End the binding of this Telegram account to officer {name}? To bind again you will "
        "need a new code from your administrator."),
    "unbind_yes": ("确认解除绑定", "Unbind"),
    "unbind_kept": ("好的，绑定未变。", "Fine: the binding is unchanged."),
    "unbound_self": (
        "已解除绑定。此 Telegram 账号不能再使用执法功能；如需重新绑定，请向管理员申请绑定码。",
        "Unbound. This Telegram account can no longer use officer commands; to bind again, ask "
        "your administrator for a code."),
    "bound": ("绑定成功：{name}（{roles}）。\n{menu}", "Bound: {name} ({roles}).\n{menu}"),
    "officer_only": (
        "此功能仅限已绑定的执法人员使用。执法人员请先发送 /bind 绑定码；群众可用 /complain 投诉"
        "举报。此次尝试已记录。",
        "This is for bound officers only. Officers: send /bind CODE first; the public can use "
        "/complain. This attempt has been logged."),
    "group_private": (
        "为保护案件信息，执法操作和证据只在与本机器人的私聊中进行，请私聊 {bot}。",
        "To keep case data private, officer commands and evidence work only in a private "
        "chat with {bot}."),
    "switch_ask": ("您还有一份没填完的内容。继续填写还是放弃？",
                   "You have a form half filled in. Go on with it, or give it up?"),
    "switch_keep": ("继续填写", "Go on"),
    "switch_drop": ("放弃，开始新的", "Give it up"),
    "switch_kept": ("好的，请回答上面的问题。", "Fine: answer the question above."),
    "switch_dropped": ("已放弃未填完的内容，没有记录。", "The half-filled form was given up; "
                       "nothing was recorded."),
    "lang_pick": ("请选择语言：", "Choose a language:"),
    "lang_set": ("已切换为中文。", "Language set to English."),
    "cancelled": ("已取消，没有记录任何内容。", "Cancelled; nothing was recorded."),
    "nothing_to_cancel": ("当前没有进行中的操作。", "Nothing is in progress."),
    "unknown": ("没有理解。请使用下方命令：\n{menu}", "I did not understand. Commands:\n{menu}"),
    "error": (
        "抱歉，处理这条消息时出错了，这一步没有记录任何内容。请再试一次，或用 /checklist 查看。",
        "Sorry, something went wrong with that message; nothing of this step was recorded. "
        "Try again, or use /checklist."),
    "error_recorded": (
        "已记录，但之后的回复出错了。请用 /checklist 查看已记录的内容，不要重复提交。",
        "It was recorded, but the reply after it failed. Use /checklist to see what is "
        "recorded; do not submit it again."),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "skip": ("跳过", "Skip"),
    "now": ("现在", "Now"),
    "today": ("今天", "Today"),
    "confirm": ("✅ 确认", "✅ Confirm"),
    "cancel": ("✖ 取消", "✖ Cancel"),
    "done": ("完成", "Done"),
    "none": ("无", "None"),
    # active case
    "no_case": (
        "请先选择案件：/cases 或 /case 编号；新案件用 /new。",
        "Choose a case first: /cases or /case NUMBER; /new opens one."),
    "cases_none": ("没有可查看的案件。用 /new 新建。", "No cases to show. Use /new to open one."),
    "cases_pick": ("请选择案件（当前：{current}）：", "Choose a case (current: {current}):"),
    "case_usage": (
        "请发送：/case 案件编号 或 序号，例如 /case 3。",
        "Send: /case NUMBER or serial, e.g. /case 3."),
    "case_not_found": ("找不到案件 {arg}，或您无权查看。", "No case {arg}, or you may not see it."),
    "case_active": (
        "当前案件：{number} {title}\n类别：{kind}；启动方式：{route}；阶段：{stage}",
        "Active case: {number} {title}\nKind: {kind}; route: {route}; stage: {stage}"),
    # /new
    "new_kind": ("新建案件（1/6）：执法类别？", "New case (1/6): kind of enforcement?"),
    "new_same": ("同上次：{kind} · {route}", "As last time: {kind} · {route}"),
    "new_site_shared": (
        "（5/6）现场位置：用您刚才共享的位置，或输入地址。",
        "(5/6) Site: the location you just shared, or type the address."),
    "use_shared": ("📍 用刚才共享的位置（精度约 {acc}）", "📍 The location just shared ({acc})"),
    "confirm_and_file": ("✅ 确认并填写立案审批表", "✅ Confirm and fill in the filing form"),
    "make_emergency": ("⚡ 改为紧急情况先行启动（A10.2）", "⚡ Make it an emergency start (A10.2)"),
    "filing_prefilled": (
        "立案审批表（已按案件预填，A10.1）：\n{lines}\n确认后提交审批。",
        "Filing form (prefilled from the case, A10.1):\n{lines}\nConfirm to send it for "
        "approval."),
    "filing_edit": ("✏ 逐项修改", "✏ Edit each field"),
    "new_route": ("（2/6）启动方式？", "(2/6) How does it start?"),
    "new_title": (
        "（3/6）请输入案由（例如：未取得施工许可擅自施工）：",
        "(3/6) Type the subject (e.g. building without a construction permit):"),
    "new_party_kind": ("（4/6）当事人是？", "(4/6) The party is?"),
    "new_party_name": (
        "请输入当事人名称（个人姓名或单位全称）：",
        "Type the party's name (a person's name or the organisation's full name):"),
    "new_party_id": (
        "请输入当事人证件号（身份证号或统一社会信用代码），或点“跳过”：",
        "Type the party's ID number (or unified credit code), or tap Skip:"),
    "new_site": (
        "（5/6）现场位置：点下方“发送位置”，或直接输入地址。",
        "(5/6) Site: tap “Send location” below, or type the address."),
    "send_location": ("📍 发送位置", "📍 Send location"),
    "new_site_address": (
        "位置已收到（精度约 {acc}）。请输入地址，或点“跳过”：",
        "Location received (accuracy about {acc}). Type the address, or Skip:"),
    "site_kept": ("现场位置已记下。", "Site noted."),
    "new_emergency": (
        "（6/6）是否紧急情况先行启动（A10.2）？",
        "(6/6) Emergency start first (A10.2)?"),
    "new_summary": (
        "请核对：\n类别：{kind}\n启动方式：{route}\n案由：{title}\n当事人：{party}\n现场：{site"
        "}\n紧急：{emergency}",
        "Please check:\nKind: {kind}\nRoute: {route}\nSubject: {title}\nParty: {party}\nSite: "
        "{site}\nEmergency: {emergency}"),
    "new_opened": (
        "✅ 已立案登记：{number}（当前案件）。",
        "✅ Case opened: {number} (now active)."),
    "type_text": ("请输入文字。", "Please type the answer."),
    "asked_again": ("请先回答这个问题（点按钮）：", "Please answer this first (tap a button):"),
    "use_buttons": ("请点上方按钮选择。", "Please tap one of the buttons above."),
    # checklist
    "checklist_head": ("{number}（{stage}）本阶段要求：", "{number} ({stage}), this stage needs:"),
    "next_missing": ("下一步还缺：{items}", "Still missing: {items}"),
    "next_ready": (
        "本阶段已齐全，可用 /stage 进入“{next}”。",
        "This stage is complete; /stage moves to “{next}”."),
    "next_closed": ("案件已结案。", "The case is closed."),
    # /stage
    "stage_pick": ("{number} 当前阶段：{stage}。转入：", "{number} is in {stage}. Move to:"),
    "stage_none": ("该案件没有可进入的下一阶段。", "This case has no next stage."),
    "stage_moved": ("✅ {number} 已进入“{stage}”。", "✅ {number} moved to “{stage}”."),
    # /record
    "record_pick": ("{number}：要填写哪种文书？", "{number}: which record?"),
    "record_more": ("更早阶段的文书…", "Earlier stages…"),
    "record_none": ("当前阶段没有可填写的文书。", "No record type applies at this stage."),
    "record_officers": (
        "{title} 是现场文书，须两名以上持证执法人员（A14.1）。请选择同行人员，然后点“完成”：",
        "{title} is a field record: at least two certified officers (A14.1). Pick who is with "
        "you, then tap Done:"),
    "record_officers_none": (
        "本部门没有其他持证执法人员可选。",
        "No other certified officer to pick."),
    "field_ask": (
        "{title}（{i}/{n}）{label}{optional}：{hint}",
        "{title} ({i}/{n}) {label}{optional}: {hint}"),
    "optional": ("（选填）", " (optional)"),
    "hint_text": ("请输入", "type it"),
    "hint_int": ("请输入整数", "type a whole number"),
    "hint_list": ("每行一项，或用顿号、分号分隔", "one item per line, or separated by ; or ,"),
    "hint_date": ("格式 2026-11-26，或点“今天”", "format 2026-11-26, or tap Today"),
    "hint_datetime": (
        "格式 2026-11-26 09:30（北京时间），或点“现在”",
        "format 2026-11-26 09:30 (Beijing time), or tap Now"),
    "hint_choice": ("请选择", "choose"),
    "field_bad": (
        "“{label}”填写有误：{problem}。请重新输入。",
        "“{label}” is not valid: {problem}. Please answer again."),
    "record_summary": ("请核对 {title}：\n{lines}", "Please check {title}:\n{lines}"),
    "record_saved": ("✅ 已记录：{title}（{number}）。", "✅ Recorded: {title} ({number})."),
    "complaint_ticket": (
        "投诉举报受理编号 {number}，查询码 {code}（只显示这一次，请转告投诉举报人）。",
        "Complaint tracking number {number}, status code {code} (shown once; pass it on)."),
    "approval_sent": ("已提交审批，已通知：{names}。", "Sent for approval to: {names}."),
    "approval_nobody": (
        "已提交审批，但本部门没有在岗的{role}，请联系管理员。",
        "Sent for approval, but the department has no active {role}; tell your administrator."),
    # approvals
    "approved_by_me": (
        "✅ 您已同意（{step}）：{title} {number}。",
        "✅ You approved ({step}): {title} {number}."),
    "returned_by_me": (
        "↩ 您已退回（{step}）：{title} {number}。理由：{reason}",
        "↩ You returned ({step}): {title} {number}. Reason: {reason}"),
    "return_reason": ("请输入退回理由：", "Type the reason for returning it:"),
    "ev_received": (
        "已收到 {name}（{size}，SHA-256 {sha}…）。这份材料证明什么（A31.1）？",
        "Received {name} ({size}, SHA-256 {sha}…). What does it prove (A31.1)?"),
    "ev_other": ("其他（输入文字）", "Other (type it)"),
    "ev_type_proves": ("请输入证明对象：", "Type what it proves:"),
    "ev_queued": (
        "已收到 {name}，排在第 {n} 个，稍后询问。",
        "Received {name}; it is number {n} in line."),
    "ev_pick_case": (
        "已收到并保存「{name}」（共 {n} 个文件等待归入案件）。请选择它属于哪个案件：",
        "Received and kept \"{name}\" ({n} file(s) waiting for a case). Which case is it for?"),
    "ev_no_cases": (
        "您还没有案件：请先用 /new 新建案件，文件已保存，稍后会再问您。",
        "You have no case yet: open one with /new; the file is kept and offered again."),
    "ev_link_pick": ("请选择要上传到哪个案件，将发给您一次性上传链接：",
                     "Choose the case; you will get a one-time upload link:"),
    "ev_link_for": ("好的，一次性上传链接如下。", "Here is the one-time upload link."),
    "ev_linked": ("🔗 已关联到：{record}", "🔗 Linked to: {record}"),
    "stale_button": (
        "这个按钮已失效（可能已处理过或已过期），没有记录任何内容。请用 /checklist 查看当前情况。",
        "That button is no longer valid (already handled or expired); nothing was recorded. "
        "Use /checklist to see where things stand."),
    "ev_too_big": (
        "文件 {size} 超过机器人可下载的 20 MB。",
        "The file ({size}) is over the 20 MB a bot can download."),
    "ev_link": (
        "请用一次性上传链接上传原文件（{expires} 前有效）：\n{url}",
        "Upload the original with this one-time link (valid until {expires}):\n{url}"),
    "ev_capture_page": ("更方便：点下方“📷 拍照取证”，在 Telegram 里直接拍照，时间和位置当场记录。",
                        "Easier: tap “📷 Take evidence photos” below to take it inside Telegram "
                        "with its time and place recorded."),
    "ev_compressed": (
        "⚠ 这是压缩后的照片：Telegram 会删除拍摄时间和GPS，只能记为“未核验”。请改为以“文件”方式"
        "发送原图：📎 → 文件 → 选择照片。",
        "⚠ This is a compressed photo: Telegram strips its time and GPS, so it can only be "
        "“unverified”. Send the original as a file instead: 📎 → File → choose the photo."),
    "ev_forwarded": (
        "⚠ 这是转发的消息：已标记为非第一手材料。",
        "⚠ Forwarded message: marked as not first-hand."),
    "ev_verdict": (
        "{icon} 证据已登记（{assurance}）\n{lines}",
        "{icon} Evidence stored ({assurance})\n{lines}"),
    "ev_hash": ("哈希：{sha}…", "Hash: {sha}…"),
    "ev_gps": ("位置：{detail}", "Location: {detail}"),
    "ev_time": ("拍摄时间：{detail}", "Capture time: {detail}"),
    "ev_device": ("设备：{device}", "Device: {device}"),
    "ev_device_unknown": ("设备：未知", "Device: unknown"),
    "ev_check": ("{name}：{detail}", "{name}: {detail}"),
    "ev_failed_hint": (
        "未通过的项目请按提示补拍或补充说明。",
        "For a failed check, retake it or explain it as the message says."),
    "ev_cancelled": (
        "已取消。{n} 个文件已暂存，未登记；用 /inbox 重新登记。",
        "Cancelled. {n} files are kept, not registered; /inbox offers them again."),
    "inbox_empty": ("没有暂存的文件。", "No kept files."),
    "inbox_retry": ("重新登记 {n} 个暂存文件…", "Registering {n} kept files…"),
    "location_saved": (
        "📍 位置已记录（精度约 {acc}{live}），将用于核对随后上传的材料。",
        "📍 Location recorded (accuracy about {acc}{live}); it is checked against the files "
        "you send next."),
    "live": ("，实时位置", ", live"),
    "forward_text": (
        "⚠ 转发的文字不是第一手材料，未作记录。请把原件以文件发送，或在 /record 中记录。",
        "⚠ Forwarded text is not first-hand and was not recorded. Send the original as a file, "
        "or record it with /record."),
    # complaints
    "cp_what": (
        "投诉举报（1/4）：请描述您要反映的问题：",
        "Complaint (1/4): describe the problem:"),
    "cp_where": (
        "（2/4）在哪里？点“发送位置”或输入地址：",
        "(2/4) Where? Tap “Send location” or type the address:"),
    "cp_where_kept": ("地点已记下。", "Place noted."),
    "cp_photos": (
        "（3/4）如有照片请发送（可多张），发完点“完成”：",
        "(3/4) Send photos if you have any (several are fine), then tap Done:"),
    "cp_photo_ok": ("已收到并保存第 {n} 个文件，提交后作为证据登记。",
                    "File {n} received and kept; it is recorded as evidence when you submit."),
    "cp_photo_too_big": ("这个文件（{size}）超过 20 MB，机器人无法接收；"
                         "请发送较小的照片或视频片段。",
                         "That file ({size}) is over 20 MB, more than the bot can receive; "
                         "send a smaller photo or clip."),
    "cp_contact": (
        "（4/4）联系方式（手机号或邮箱）；点“用 Telegram 通知我”也可以：",
        "(4/4) Contact (phone or e-mail), or tap “Notify me on Telegram”:"),
    "cp_by_telegram": ("用 Telegram 通知我", "Notify me on Telegram"),
    "cp_summary": (
        "请核对：\n问题：{what}\n地点：{where}\n照片：{photos} 张\n联系方式：{contact}",
        "Please check:\nProblem: {what}\nPlace: {where}\nPhotos: {photos}\nContact: {contact}"),
    "cp_sent": (
        "✅ 已提交。受理编号 {tracking_no}，查询码 {code}。请妥善保存，用 /status 查询进度。",
        "✅ Submitted. Tracking number {tracking_no}, code {code}. Keep them; /status shows "
        "progress."),
    "cp_waiting": (
        "工作人员核查后决定是否受理，期限自今天收到时起算。",
        "Staff check it and decide whether to accept it; time limits count from today."),
    "cp_confirm_sent": (
        "我们已向您留下的联系方式发送确认码，请在此发送：/confirm {tracking_no} 确认码。"
        "确认前，不会向该地址发送任何办理通知。",
        "A confirmation code was sent to the contact you gave; send here: /confirm "
        "{tracking_no} CODE. Until then no notice is sent to that address."),
    "cf_usage": ("请发送：/confirm 受理编号 确认码", "Send: /confirm TRACKING-NUMBER CODE"),
    "cf_done": ("✅ 联系方式已确认（{tracking_no}），办理通知将发送到该地址。",
                "✅ Contact confirmed ({tracking_no}); notices will go there."),
    "cf_wrong": ("受理编号或确认码不正确，或确认码已过期。",
                 "The tracking number or confirmation code is not right, or it expired."),
    "ci_none": ("没有待核查的群众投诉。", "No public complaint is waiting to be checked."),
    "ci_accepted": ("✅ 已受理 {tracking_no}，已立案登记为 {number}。",
                    "✅ Accepted {tracking_no}; registered as {number}."),
    "ci_reason": ("请输入不予受理的理由（{kind}）：",
                  "Type the reason for not accepting it ({kind}):"),
    "ci_rejected": ("已决定不予受理 {tracking_no}（{kind}）。理由：{reason}",
                    "Not accepted: {tracking_no} ({kind}). Reason: {reason}"),
    "cp_nobody": (
        "抱歉，目前没有工作人员在线接收投诉，请拨打 12345 热线。您的内容未被记录。",
        "Sorry, no staff member can receive complaints here right now; please call the 12345 "
        "hotline. Nothing was recorded."),
    "st_number": ("请输入受理编号（TS开头）：", "Type the tracking number (starts with TS):"),
    "st_code": ("请输入查询码：", "Type the status code:"),
    "st_result": (
        "受理编号 {tracking_no}：{status}{extra}",
        "Complaint {tracking_no}: {status}{extra}"),
    "st_not_found": ("受理编号或查询码不正确。", "The tracking number or code is not right."),
    # signatures and refusals
    "sign_nothing": ("当前案件没有待签名的文书。", "No record of this case waits for a signature."),
    "sign_pick": ("哪份文书签名？", "Which record is being signed?"),
    "sign_who": ("{title}：谁签名？", "{title}: who signs?"),
    "sign_name": ("{role}姓名：", "Name of the {role}:"),
    "sign_method": ("签名方式？", "How is it signed?"),
    "sign_photo": (
        "请拍摄签名页（签名、指印或印章清晰可见）并发送照片：",
        "Photograph the signed page (signature, fingerprint or seal clearly visible) and send "
        "it:"),
    "sign_saved": (
        "✅ 已记录 {name}（{role}）的签名。",
        "✅ Signature of {name} ({role}) recorded."),
    "record_complete": ("该文书签名已齐全。", "The record has every signature it needs."),
    "record_gaps": ("该文书还缺：{items}", "The record still lacks: {items}"),
    "refuse_pick": ("拒绝什么？", "What is refused?"),
    "refuse_quick": ("{name}（{role}）拒签 · {title}", "{name} ({role}) refuses to sign · {title}"),
    "refuse_investigation": ("拒绝接受调查（A13.3）", "Refuses investigation (A13.3)"),
    "refuse_evidence": ("拒绝提供证据（A13.3）", "Refuses to give evidence (A13.3)"),
    "refuse_role": ("谁拒绝签名？", "Who refuses to sign?"),
    "refuse_name": ("拒绝人的姓名：", "Name of the person refusing:"),
    "refuse_reason": (
        "拒绝的理由（当事人所说；未说明请写“未说明理由”）：",
        "The reason given (write “none given” if none):"),
    "refuse_place": ("地点：", "Place:"),
    "refuse_proof": (
        "拒签须有见证人签名或录像证明（A22.2）：",
        "A refusal to sign needs witnesses who sign or a video (A22.2):"),
    "proof_witness": ("添加见证人", "Add a witness"),
    "proof_witness_more": ("再添加一位见证人", "Add another witness"),
    "proof_video": ("选择录像", "Choose a video"),
    "proof_none": ("不需要", "Not needed"),
    "proof_no_video": (
        "本案还没有录像证据；请先以文件方式发送录像，或添加见证人。",
        "This case has no video yet; send the video as a file first, or add witnesses."),
    "proof_pick_video": ("哪段录像记录了拒签过程？", "Which video shows the refusal?"),
    "witness_name": ("见证人姓名：", "Witness's name:"),
    "witness_id": ("见证人身份证号：", "Witness's ID number:"),
    "witness_relation": (
        "见证人身份（例如：村委会工作人员、邻居）：",
        "Who the witness is (e.g. village committee staff, neighbour):"),
    "receipt_preparing": ("送达回证正在生成，完成后列入该送达文书的证据，可在网页端（/web）案件页面"
                          "查看、下载。",
                          "The 送达回证 is being prepared; once made it is listed with the "
                          "service record's evidence on the web desk's case page (/web)."),
    "field_sign_image": ("签名图片", "signature image"),
    "field_witness_image": ("见证人签名图片", "witness's signature image"),
    "witness_sign": ("请发送见证人签名的照片：", "Send a photo of the witness's signature:"),
    "witness_saved": ("已添加 {n} 位见证人。", "{n} witnesses added."),
    "refused_sign": ("拒绝签名", "Refused to sign"),
    "refused_investigation": ("拒绝接受调查", "Refused investigation"),
    "refused_evidence": ("拒绝提供证据", "Refused to give evidence"),
    "refuse_summary": (
        "请核对：\n{what}\n拒绝人：{name}（{role}）\n理由：{reason}\n地点：{place}\n见证人：{wi"
        "tnesses}\n录像：{video}",
        "Please check:\n{what}\nPerson: {name} ({role})\nReason: {reason}\nPlace: "
        "{place}\nWitnesses: {witnesses}\nVideo: {video}"),
    "refuse_saved": (
        "✅ 拒绝情况已记录（见证人 {n} 位）。",
        "✅ Refusal recorded ({n} witnesses)."),
    "served_at": ("视为送达时间：{at}（{rule}）", "Counts as served at: {at} ({rule})"),
    "av_next_photo": (
        "此文书须有照片（{rule}）：请现在以文件方式发送照片，将自动关联到本文书。",
        "This record needs photos ({rule}): send the photo as a file now; it will be linked to "
        "this record."),
    "av_next": (
        "此文书须有音像记录（{rule}）：请现在以文件方式发送录像或录音，将自动关联到本文书。",
        "This record needs AV ({rule}): send the video as a file now; it will be linked to "
        "this record."),
    "resume_none": (
        "没有未恢复的音像中断记录。先用 /interrupt 记录中断。",
        "No open AV interruption; record one with /interrupt first."),
    "resume_voice": (
        "恢复录像时是否已语音说明中断原因（A17.2）？",
        "On restarting, did you explain the interruption by voice (A17.2)?"),
    "resume_saved": (
        "✅ 已记录恢复时间及语音说明。",
        "✅ Resumption and voice explanation recorded."),
    "resume_saved_no_voice": (
        "✅ 已记录恢复时间。⚠ 未语音说明中断原因：请在录像中补充说明（A17.2）。",
        "✅ Resumption recorded. ⚠ No voice explanation: say it on the recording now (A17.2)."),
    "serve_none": ("当前阶段没有可用的送达方式。", "No service method applies now."),
    # deadlines
    "tasks_none": ("您的案件没有未完成的期限。", "No open deadlines on your cases."),
    "tasks_head": ("我的期限（超期在前）：", "My deadlines (overdue first):"),
    "tasks_line": (
        "{mark} {due} {number} {rule}：{title}",
        "{mark} {due} {number} {rule}: {title}"),
    "open_case": ("打开案件", "Open the case"),
    # web sign-in (/web)
    "web_link": (
        "🔐 一次性登录链接（{minutes} 分钟内有效，仅可使用一次，请勿转发）：\n{url}",
        "🔐 One-time sign-in link (valid {minutes} minutes, works once; do not forward it):\n"
        "{url}"),
    # domain errors
    "err_gate": (
        "规则不允许这一步：还缺 {items}。",
        "The rules refuse this step: missing {items}."),
    "err_gate_plain": ("规则不允许这一步（{ids}）。", "The rules refuse this step ({ids})."),
    "err_invalid": ("填写的内容不符合要求：{items}。", "Some answers are not valid: {items}."),
    "err_already_done": ("已经记录过了，无需重复。{what}",
                         "Already recorded; nothing changed. {what}"),
    "err_not_found": ("找不到该案件或记录，或您无权查看。", "Not found, or you may not see it."),
    "err_forbidden": ("您的角色不能进行这一步。", "Your role does not allow this step."),
    "err_conflict": (
        "与已记录的内容冲突，未作记录。",
        "This conflicts with what is recorded; nothing was recorded."),
    "err_bind": (
        "绑定码无效、已使用或已过期。请向管理员重新申请。",
        "The code is unknown, used or expired. Ask your administrator for a new one."),
    "err_bind_taken": (
        "此 Telegram 账号已绑定其他执法人员。",
        "This Telegram account is already bound to another officer."),
}

# Objects of proof offered as buttons (A17.1: scene, people, key items, measures, service).
PROVES = (("现场情况", "the scene"), ("当事人及相关人员", "the people"),
          ("关键物品", "key items"), ("采取的措施", "measures taken"),
          ("文书送达过程", "service of documents"))

STATUS_ICON = {"pass": "✅", "warn": "⚠", "fail": "❌"}


def t(lang: str, key: str, **kw) -> str:
    """The message ``key`` in the language, with its placeholders filled."""
    zh, en = T[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text


def kind_name(kind: str, lang: str) -> str:
    """An enforcement kind in the user's language (A2.1)."""
    return texts.label("kind", kind, lang)


def route_name(route: str, lang: str) -> str:
    """An initiation route in the user's language."""
    return texts.label("route", route, lang)


def stage_name(stage: str, lang: str) -> str:
    """A stage in the user's language (A3.1)."""
    return texts.label("stage", stage, lang)


def choice_name(choice: str, lang: str, field: str | None = None) -> str:
    """An enum choice of the catalogue in the user's language."""
    return texts.choice(choice, lang, field)


def role_names(roles, lang: str) -> str:
    """Roles as a readable list."""
    return texts.labels("role", roles, lang)


def rule_item(rule_id: str, lang: str, text_zh: str = "", text_en: str = "") -> str:
    """One missing requirement: its words and its RULES.md ID."""
    if lang == "en":
        words = text_en or texts.label("rule", rule_id, "en")
        return f"{words} ({rule_id})" if words != rule_id else rule_id
    words = text_zh or texts.label("rule", rule_id, "zh")
    return f"{words}（{rule_id}）" if words != rule_id else rule_id


def size_text(size: int | None) -> str:
    """A file size in MB or KB."""
    if not size:
        return "?"
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def metres(value: float | None, lang: str) -> str:
    """A distance or accuracy in metres."""
    if value is None:
        return "?"
    return f"{value:.0f} m" if lang == "en" else f"{value:.0f} 米"
