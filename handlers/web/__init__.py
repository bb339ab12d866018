"""The web console (#21): the coordinators' desk and members' notes, served by the bot itself."""
