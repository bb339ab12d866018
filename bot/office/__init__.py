"""The office: the people, their notes and the year-end work around a document.

Members, bind requests and invites; progress notes and their flows; the audit trail; unit
changes; year-end reminders; the coordinators' overview, the Excel export, the Word report and
the progress picture; questions nobody could answer; the web console's logins and desk. Each
works through the store and returns neutral outcomes for any channel.
"""

# The modules whose renders run in the worker process (bot.offload.prepare loads them there).
RENDERERS = ("bot.office.export", "bot.office.heatmap", "bot.office.report")
