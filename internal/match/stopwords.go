package match

// stopWords are common English words. They are never keywords, even when a
// job description shouts them ("REQUIREMENTS", "ABOUT US").
var stopWords = toSet(`a about above across after again against all almost along already also although always
am among an and another any anyone anything are around as ask at available away back be because become
been before being below best better between beyond both bring build but by can come could day days do
does doing done down during each early either else end enough especially even ever every everyone
everything experience experienced few find first following for from full further get give go good great
grow had has have having he help her here high his how however i if in including into is it its join
just keep key kind know large last later lead least less let level like looking lot made make many may
me more most much must my need new next no not now of off often on once one only open or other our out
over own part per person plus position possible really remote right role same see seeking several shall
she should since skills so some someone something still strong such take team than that the their them
then there these they thing things this those through time to today together too top toward towards under
until up upon us use used using very via want was way we well were what when where whether which while
who whom whose why will with within without work working would year years yes yet you your yours
ability able apply applicant applicants application based benefit benefits candidate candidates company
culture environment equal excellent job location office opportunity opportunities people please product
products requirement requirements responsibilities responsibility salary service services should support
title hybrid onsite on-site fulltime full-time parttime part-time contract permanent hours week weeks
month months monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december note notes offer offers perks preferred required
nice bonus ideal ideally minimum summary overview description duties tasks qualification qualifications
must-have nice-to-have etc e.g i.e`)

// stopAcronyms look like technical tokens but are not skills.
var stopAcronyms = toSet(`cv cvs us usa uk eu emea apac dach latam hq ceo cto cfo coo cio cpo vp svp evp hr pto
eeo eoe ok faq faqs asap tbd tbc eta fte llc inc ltd gmbh ag bv sa plc corp am pm et pt cet cest utc gmt
est pst id nyc sf la dc wfh dei usd eur gbp chf ii iii iv jd rsvp it m/f/d m/w/d mfd mwd w/m/d f/m/d
n/a na q&a r&d at&t lgbtq lgbtq+ ps pps nb diy ai/ml`)
