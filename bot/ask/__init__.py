"""Asking: a liaison's question, in everyday words, answered from the loaded documents.

The question engine (units, tasks, measures and topics matched in bounded, linear time), the
lexicon of general and document-specific words, follow-ups in a chat's context, questions about
reporting, worker threads with a time limit, the catalog of documents and which one a question
names, and the assistant that turns all of it into neutral replies.
"""
