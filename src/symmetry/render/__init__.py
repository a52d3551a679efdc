"""render: pictures and pages made from measurements and trends.

- overlay: a photo's measured distances drawn on it (arrays in, arrays out);
  overlay_files: the public `symmetry.draw` on a photo file, overlay names, writing.
- plots: trend, timeline, movement and massage effect, over plot_parts (their style,
  series, date axis, saving); video_plot: a recording's symmetry over time;
  face_strip: the first vs the latest resting photo.
- The HTML report: report (the page and its files), summary (the patient's words),
  tables (the clinician's tables), common (the wording of numbers, dates and sessions
  they share), templates/.
"""
