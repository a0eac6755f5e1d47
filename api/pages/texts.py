"""What the pages say, as (Simplified Chinese, English) pairs.

Keys starting with ``upjs_`` are handed to the upload page's script (placeholders in braces are
filled there). The words of stored codes (check names, assurance levels, check outcomes) are
not here but in core.kernel.texts, shared with the bot and the API.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # --- every page --------------------------------------------------------------------------
    "site_name": ("全程", "Quancheng"),
    "site_tagline": ("行政执法全过程记录", "Full-process record of administrative enforcement"),
    "skip_to_main": ("跳到正文", "Skip to the content"),
    "switch_to": ("English", "中文"),
    "switch_to_label": ("Switch the page to English", "切换为中文"),
    "footer": ("本页面由全程系统直接提供，不加载任何外部资源。",
               "This page is served by Quancheng itself and loads nothing from elsewhere."),
    "noscript": ("此页面需要启用 JavaScript 才能分段上传并在断网后续传。",
                 "This page needs JavaScript to upload in pieces and resume after a "
                 "disconnection."),

    # --- the capture page inside Telegram (/m/capture) ----------------------------------------
    "cap_title": ("现场拍摄取证", "Capture evidence"),
    "cap_starting": ("正在打开相机…", "Opening the camera…"),
    "cap_proves": ("这张照片证明什么", "What the photo proves"),
    "cap_shoot": ("📷 拍照并登记", "📷 Take and record"),
    "cap_items": ("本机拍摄的材料", "Items taken on this phone"),
    "capjs_ready": ("相机已就绪。拍照时会同时记录时间和位置。",
                    "The camera is ready. Time and position are recorded as you take it."),
    "capjs_saved": ("已拍摄并保存（哈希 {sha}…），正在上传。",
                    "Taken and kept (hash {sha}…); uploading."),
    "capjs_saved_offline": ("已拍摄并保存在本机（哈希 {sha}…）。当前无网络，恢复信号后自动上传，"
                            "拍摄时间和位置不变。",
                            "Taken and kept on this phone (hash {sha}…). No signal now: it "
                            "goes up by itself when the signal returns, with its capture time "
                            "and place."),
    "capjs_uploading": ("正在上传 {sha}…", "Uploading {sha}…"),
    "capjs_uploaded": ("✅ 已登记为证据（哈希 {sha}…）。",
                       "✅ Recorded as evidence (hash {sha}…)."),
    "capjs_retry": ("上传中断，恢复信号后自动继续。", "The upload stopped; it continues when the "
                    "signal returns."),
    "capjs_refused": ("服务器拒绝了上传：", "The server refused the upload:"),
    "capjs_failed": ("拍摄失败：", "Could not take the photo:"),
    "capjs_case": ("案件 {number}：{title}", "Case {number}: {title}"),
    "capjs_item_waiting": ("⏳ {at} 拍摄，{where}，等待上传（{sha}…）",
                           "⏳ taken {at}, {where}, waiting to upload ({sha}…)"),
    "capjs_item_done": ("✅ {at} 拍摄，{where}，已登记（{sha}…）",
                        "✅ taken {at}, {where}, recorded ({sha}…)"),
    "capjs_accuracy": ("定位精度 {m} 米", "position within {m} m"),
    "capjs_no_position": ("未取得位置", "no position"),
    "capjs_no_init": ("请从机器人里的按钮打开本页面。", "Open this page from the bot's button."),
    "capjs_no_case": ("没有指定案件：请在机器人中先选择案件。",
                      "No case given: choose a case in the bot first."),
    "capjs_no_camera": ("无法使用相机：", "The camera cannot be used:"),

    # --- the one-time upload page (/u#token) --------------------------------------------------
    "up_title": ("上传证据", "Upload evidence"),
    "up_intro": ("通过一次性链接上传一个证据文件。大文件分段上传，支持断点续传：断网或刷新页面后"
                 "从中断处继续。",
                 "Upload one evidence file through a one-time link. Large files go up in "
                 "pieces and continue where they stopped after a lost connection or a reload."),
    "up_case": ("案件编号", "Case number"),
    "up_case_title": ("案件名称", "Case title"),
    "up_expires": ("链接有效期至", "Link valid until"),
    "up_loading": ("正在读取链接信息…", "Reading the link…"),
    "up_file": ("选择文件（照片、视频、录音或扫描件）",
                "Choose a file (photo, video, recording or scan)"),
    "up_camera": ("或现场拍摄", "Or take it now with the camera"),
    "up_proves": ("证明对象：此文件证明什么", "What this file proves"),
    "up_proves_hint": ("例如：现场违法建设状况", "For example: the state of the site"),
    "up_method": ("制作方法", "How it was made"),
    "up_method_video": ("录像", "Video recording"),
    "up_method_photo": ("拍照", "Photograph"),
    "up_method_audio": ("录音", "Audio recording"),
    "up_method_scan": ("扫描文书", "Scanned document"),
    "up_start": ("开始上传", "Start the upload"),
    "up_pause": ("暂停", "Pause"),
    "up_resume": ("继续上传", "Resume"),
    "up_progress": ("上传进度", "Upload progress"),
    "up_result": ("核验结果", "Verdict"),
    "up_proves_1": ("现场情况", "The scene"),
    "up_proves_2": ("当事人及相关人员", "The people present"),
    "up_proves_3": ("关键物品", "Key items"),
    "up_proves_4": ("采取的措施", "Measures taken"),
    "up_proves_5": ("文书送达过程", "Service of documents"),

    # --- the upload page's script ------------------------------------------------------------
    "upjs_no_token": ("链接不完整：地址中缺少上传凭证。请从机器人重新获取链接。",
                      "The link is incomplete: its upload token is missing. Ask the bot for "
                      "a new link."),
    "upjs_link_unknown": ("此链接无效。请从机器人重新获取链接。",
                          "This link is not valid. Ask the bot for a new link."),
    "upjs_link_expired": ("此链接已过期，请从机器人重新获取链接。",
                          "This link has expired. Ask the bot for a new link."),
    "upjs_link_used": ("此链接已使用，请从机器人重新获取链接。",
                       "This link has been used. Ask the bot for a new link."),
    "upjs_link_inactive": ("发放此链接的执法人员已停用，无法上传。",
                           "The officer who was given this link is no longer active."),
    "upjs_unfinished": ("上次上传未完成：{name}（已上传 {percent}）。请重新选择同一文件继续。",
                        "An upload through this link is unfinished: {name} ({percent} sent). "
                        "Choose the same file again to continue."),
    "upjs_wrong_file": ("此链接已用于上传 {name}（{size}）。请选择同一文件继续。",
                        "This link is already uploading {name} ({size}). Choose that file to "
                        "continue."),
    "upjs_pick_file": ("请先选择要上传的文件。", "Choose a file first."),
    "upjs_need_proves": ("请填写证明对象。", "Say what the file proves."),
    "upjs_uploading": ("正在上传…", "Uploading…"),
    "upjs_resuming": ("正在从中断处继续…", "Continuing where it stopped…"),
    "upjs_paused": ("已暂停。点击“继续上传”从中断处继续。", "Paused. Press Resume to continue."),
    "upjs_offline": ("网络已断开。网络恢复后将自动继续上传。",
                     "The network is down. The upload continues by itself when it is back."),
    "upjs_retrying": ("连接中断，正在重试…", "The connection dropped; trying again…"),
    "upjs_checking": ("上传完成，正在核验文件…", "Uploaded; checking the file…"),
    "upjs_progress": ("已上传 {done} / {total}（{percent}）", "{done} of {total} sent ({percent})"),
    "upjs_speed": ("速度 {speed}/秒，剩余约 {eta}", "{speed}/s, about {eta} left"),
    "upjs_seconds": ("{n} 秒", "{n} s"),
    "upjs_minutes": ("{n} 分钟", "{n} min"),
    "upjs_done": ("证据已登记。", "The evidence is recorded."),
    "upjs_duplicate": ("此文件此前已登记过（重复上传），未重复保存。",
                       "This file was recorded before (a duplicate); it was not stored again."),
    "upjs_sha": ("SHA-256 哈希", "SHA-256 hash"),
    "upjs_assurance": ("可信程度", "Assurance"),
    "upjs_reason": ("说明", "Why"),
    "upjs_failed_hint": ("未通过的项目请按提示补拍或向承办人说明。",
                         "For a failed check, take the item again or explain it to the "
                         "officer in charge."),
    "upjs_refused": ("文件未被接受：{message}", "The file was not accepted: {message}"),
    "upjs_error": ("上传失败：{message}", "The upload failed: {message}"),
    "upjs_err_too_large": ("文件超过系统允许的大小上限。", "The file is larger than the limit."),
    "upjs_err_unsupported_type": ("不接受此类文件。请上传照片、视频、录音或 PDF 扫描件。",
                                  "This kind of file is not accepted. Send a photo, video, "
                                  "recording or PDF scan."),
    "upjs_err_invalid": ("填写的内容不完整或有误。", "Something in the form is missing or wrong."),
    "upjs_err_link_gone": ("此链接已使用或已过期，请从机器人重新获取链接。",
                           "This link was used or has expired. Ask the bot for a new one."),
    "upjs_err_gone": ("此上传已过期或已取消，请从机器人重新获取链接。",
                      "This upload expired or was cancelled. Ask the bot for a new link."),
    "upjs_err_unauthorized": ("此链接无效。请从机器人重新获取链接。",
                              "This link is not valid. Ask the bot for a new link."),
    "upjs_err_forbidden": ("无权向此案件上传。", "You may not upload to this case."),
    "upjs_err_not_found": ("找不到此上传或案件。", "The upload or its case was not found."),
    "upjs_err_conflict": ("服务器上的进度与本页不一致，请刷新页面后重新选择同一文件继续。",
                          "The server's progress differs from this page's; reload and choose "
                          "the same file again."),
    "upjs_err_network": ("多次重试仍无法连接服务器。请检查网络后点击“继续上传”。",
                         "The server could not be reached after several tries. Check the "
                         "network and press Resume."),
    "upjs_err_other": ("服务器未能处理此请求（{status}）。", "The server could not handle this "
                                                      "request ({status})."),
}
