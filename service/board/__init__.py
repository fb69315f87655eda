"""The board as a service: what the API routes (service.api.board), the public register (service.pages.board)
and the board console (service.pages.board_console) all call.

    service.board.schemas   the pydantic shapes of requests and answers (the API's contract)
    service.board.service   the functions: members, propose, vote, recuse, execute, proposal detail, decisions
    service.board.meetings  board meetings: open, add a signed proposal, sign a ballot, close in one transaction
"""
