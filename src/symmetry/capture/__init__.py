"""Capture: guided sessions from a camera or a recording, saved in the session layout and scored.

    quality      the quality gates for one frame, and what to tell the person
    observation  one frame seen: quality, expression evidence, measurement (`observe`)
    frames       which frames to keep per expression (`choose_frames`, `select_spread`)
    protocol     the guided protocol as a pure state machine (`CaptureProtocol`)
    sources      camera and video-file frame sources
    live_draw    the live preview and the end screen (arrays in, arrays out)
    live         the live loop and its window (`run_loop`)
    video        every frame of a recording scored (`analyze_video`)
    recording    session folders: save, score, compare (`save_session`, `finish_session`)
    comparison   a session's calibration and its comparison with the previous one

Expression evidence itself is in `symmetry.face.expressions`; face lighting in
`symmetry.photo.light`; the video plot in `symmetry.render.video_plot`.
"""
